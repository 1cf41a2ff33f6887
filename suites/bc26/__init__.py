"""Quectel BC26 LwM2M AT command suites (``quectel-bc26-lwm2m-at-commands.txt``)."""
