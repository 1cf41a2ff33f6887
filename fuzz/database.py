"""Where campaigns share their corpus: Hypothesis' example database.

A directory by default (``CORPUS/.hypothesis``), any directory given as
``--db PATH``, or a Redis server with ``--db redis://HOST:PORT/N``
(``hypothesis.extra.redis``), so workers on several machines share it.
Hypothesis keeps the failing examples of each campaign there and replays them
first on the next run; next to them, under :data:`FINDINGS_KEY`, every
finding's reproducer is published so that each worker knows what the others
found.  It is a cache: the durable reproducers are the corpus files
(:mod:`fuzz.store`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

FINDINGS_KEY = b"conformance-fuzz:findings:"
REDIS_TIMEOUT = 5.0


class DatabaseError(ValueError):
    """The database URL is unusable (one line for the user)."""


def open_database(url: str | None, corpus: Path) -> ExampleDatabase:
    if not url:
        return DirectoryBasedExampleDatabase(str(corpus / ".hypothesis"))
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return _redis(url)
    if scheme in ("", "file"):
        return DirectoryBasedExampleDatabase(urlsplit(url).path if scheme else url)
    raise DatabaseError(f"--db {url!r}: use a directory or redis://HOST:PORT/N")


def _redis(url: str) -> ExampleDatabase:
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError:
        raise DatabaseError("--db redis://...: the redis package is not installed") from None
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        safe = urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl()
        raise DatabaseError(f"--db {safe}: cannot reach Redis: {exc}") from None
    return RedisExampleDatabase(client)


def publish(db: ExampleDatabase, protocol: str, record: dict[str, Any]) -> None:
    """Tell every worker sharing *db* about a finding (its stored JSON)."""
    db.save(FINDINGS_KEY + protocol.encode(), json.dumps(record, sort_keys=True).encode())


def published(db: ExampleDatabase, protocol: str) -> list[dict[str, Any]]:
    out = []
    for value in db.fetch(FINDINGS_KEY + protocol.encode()):
        try:
            record = json.loads(value)
        except ValueError:
            continue
        if isinstance(record, dict) and "signature" in record:
            out.append(record)
    return out
