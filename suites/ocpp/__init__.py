"""OCPP 2.1 (and 2.0.1) charging-station suites: the basic implementation use
cases of OCPP 2.1 Part 0 ch. 4, one module per functional block of Part 2.
The framework plays the CSMS; reusable states are fixtures in ``states``."""
