"""Conformance suites, one package per protocol, one module per command group.

Run them with ``pytest --device=URI`` (the plugin finds them) or
``pytest --pyargs suites --device=URI``.
"""
