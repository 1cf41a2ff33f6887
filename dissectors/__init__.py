"""Scapy layers and the single command table of each protocol.

Each table is written once here and drives the Scapy layer, the emulator, the
suite parametrization and the fuzz strategies.
"""
