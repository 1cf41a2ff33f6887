"""OCPP 2.0.1 and 2.1 over OCPP-J (JSON over WebSocket)."""
