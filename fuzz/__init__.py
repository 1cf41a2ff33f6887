"""Fuzzing campaigns: table-driven cases, liveness probes, findings with
minimal reproducers (``conformance fuzz``, ``conformance replay``, ``pytest fuzz/``)."""
