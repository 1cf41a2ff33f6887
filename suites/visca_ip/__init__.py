"""VISCA-over-IP suites (AVer VISCA spec rev 3.4 §3.2.4): header, sequence numbers."""
