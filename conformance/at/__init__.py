"""AT-command dialogues: line framing, recorded logs, and the checker that
holds a dialogue against a module's command table (protocol-neutral core; the
command sets are tables in :mod:`dissectors`)."""
