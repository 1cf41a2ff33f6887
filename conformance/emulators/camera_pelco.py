"""Pelco-D and Pelco-P faces of the camera emulator (placeholder until the Pelco tables land)."""
