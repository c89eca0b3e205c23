"""Who holds an environment's lock in PostgreSQL, found without touching the lock.

A holder's record (the ``holders`` table) is trusted only while ``pg_locks`` shows its
server session holding the environment's advisory lock; a lock held by a session that
wrote no record (yet) is described from the session's ``application_name``. On the read
path: no driver import beyond the connection's, no converter.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from statemgr.store.base import LockHolder
from statemgr.store.postgres_db import fetch_all
from statemgr.store.postgres_schema import lock_key, split_key

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

_APPLICATION = re.compile(r"^statemgr (\S+) (\S+) pid (\d+) on (.+)$")

_HOLDERS = """
SELECT l.pid, h.pid, h.host, h.command, h.since, a.application_name, a.backend_start
FROM pg_locks l
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
LEFT JOIN {s}.holders h ON h.name = %(name)s AND h.backend_pid = l.pid
  AND h.backend_start = a.backend_start
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = %(classid)s::bigint::oid AND l.objid = %(objid)s::bigint::oid
"""


def live_holder(connection: pg.connection, schema: str, name: str) -> LockHolder | None:
    """The live holder of ``name``'s lock per ``pg_locks``, with its record; never waits."""
    classid, objid = split_key(lock_key(schema, name))
    params = {"name": name, "classid": classid, "objid": objid}
    rows = fetch_all(connection, _HOLDERS.format(s=schema), params)
    return holder_of(rows[0]) if rows else None


def holder_of(row: tuple[Any, ...]) -> LockHolder:
    """A holder from a row of ``_HOLDERS``; without a record, from the session's name."""
    _backend, pid, host, command, since, application, started = row
    if pid is not None:
        return LockHolder(pid=pid, host=host, command=command, since=since.astimezone(UTC))
    match = _APPLICATION.fullmatch(application or "")
    moment = (started or _now()).astimezone(UTC)
    if match is not None:
        command, pid, host = match.group(1), int(match.group(3)), match.group(4)
        return LockHolder(pid=pid, host=host, command=command, since=moment)
    return LockHolder(pid=None, host="unknown", command="unknown", since=moment)  # not ours


def _now() -> datetime:
    return datetime.now(UTC)
