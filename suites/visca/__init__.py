"""VISCA suites (AVer VISCA spec rev 3.4), over serial, TCP or VISCA over IP."""
