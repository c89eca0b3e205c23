"""Taking an environment's lock in PostgreSQL, and finding who holds it.

The lock is ``pg_try_advisory_lock(key)`` on a session of its own, with ``key`` a 64-bit
hash of (schema, name). The same statement records the holder (pid, host, command, since,
and the server session: backend pid and start) in the ``holders`` table. A reader trusts a
record only while ``pg_locks`` shows that session holding that key, so a record left by a
holder that died means nothing, and a reader takes no lock at all.

A session that finds the lock "free" while the holders table names this very session as
someone else's holder is shared between clients: a pooler in transaction mode. That is
refused: two commands would both hold the lock.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from statemgr.errors import EnvironmentLocked, EnvironmentNotFound
from statemgr.store.base import LockHolder
from statemgr.store.holders import this_host
from statemgr.store.postgres_connect import driver
from statemgr.store.postgres_db import Database, database_errors, fetch_one, reason
from statemgr.store.postgres_holders import live_holder
from statemgr.store.postgres_lock import PostgresLock, fetch_none, pooled_session
from statemgr.store.postgres_schema import lock_key, prepare_layout

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

    from statemgr.layout import Layout

CHECK_INTERVAL = 0.05  # seconds between attempts while waiting for a lock

_SESSION = """
SELECT set_config(name, '0', false) FROM pg_settings
WHERE name IN ('idle_session_timeout', 'idle_in_transaction_session_timeout',
               'statement_timeout', 'lock_timeout')
"""

_ACQUIRE = """
WITH got AS MATERIALIZED (SELECT pg_try_advisory_lock(%(key)s) AS ok),
me AS (SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()),
shared AS (
  SELECT 1 FROM {s}.holders h, me
  WHERE h.name = %(name)s AND h.backend_pid = me.pid AND h.backend_start = me.backend_start),
recorded AS (
  INSERT INTO {s}.holders (name, lock_key, backend_pid, backend_start, token, pid, host,
                           command, since)
  SELECT %(name)s, %(key)s, me.pid, me.backend_start, %(token)s, %(pid)s, %(host)s,
         %(command)s, %(since)s
  FROM got, me WHERE got.ok AND NOT EXISTS (SELECT 1 FROM shared)
  ON CONFLICT (name) DO UPDATE SET lock_key = excluded.lock_key,
    backend_pid = excluded.backend_pid, backend_start = excluded.backend_start,
    token = excluded.token, pid = excluded.pid, host = excluded.host,
    command = excluded.command, since = excluded.since
  RETURNING 1)
SELECT got.ok, EXISTS (SELECT 1 FROM {s}.environments WHERE name = %(name)s),
       EXISTS (SELECT 1 FROM shared), (SELECT pid FROM me)
FROM got
"""


def application_name(command: str, name: str) -> str:
    return f"statemgr {command} {name} pid {os.getpid()} on {this_host()}"


def acquire(
    database: Database, layout: Layout, name: str, command: str, timeout: float, create: bool
) -> PostgresLock:
    """Hold ``name``'s lock on a new session (``EnvironmentLocked`` after ``timeout``)."""
    holder = LockHolder(pid=os.getpid(), host=this_host(), command=command, since=_now())
    connection = database.connect(application_name(command, name), name)
    try:
        with database_errors(database, "lock an environment in", name):
            _prepare(database, connection, name)
            backend = _take(database, connection, name, holder, timeout, create)
    except BaseException:
        with contextlib.suppress(Exception):
            connection.close()
        raise
    return PostgresLock(database, layout, connection, holder, backend, name)


def _prepare(database: Database, connection: pg.connection, name: str) -> None:
    """Session settings that keep an idle holder alive, and current tables."""
    psycopg2 = driver()
    with connection.cursor() as cursor:
        cursor.execute(_SESSION)
        try:
            prepare_layout(cursor, database.schema, database.target)
        except psycopg2.Error as error:
            if getattr(error, "pgcode", None) != "42501":
                raise
            role = connection.info.user
            raise database.target.error(
                "create the tables in",
                f"{reason(error)}; an administrator can run: CREATE SCHEMA "
                f"{database.schema} AUTHORIZATION {role};",
                name,
                hint="or create the schema and its tables as its owner (docs/postgresql.md)",
            ) from None


def _take(
    database: Database,
    connection: pg.connection,
    name: str,
    holder: LockHolder,
    timeout: float,
    create: bool,
) -> int:
    """Try until the lock is ours or ``timeout`` passed; the backend pid of the session."""
    key = lock_key(database.schema, name)
    params = {
        "key": key,
        "name": name,
        "token": secrets.token_hex(8),
        "pid": holder.pid,
        "host": holder.host,
        "command": holder.command,
        "since": holder.since,
    }
    deadline = time.monotonic() + max(0.0, timeout)
    sql = _ACQUIRE.format(s=database.schema)
    while True:
        row = fetch_one(connection, sql, params)
        assert row is not None
        ok, exists, shared, backend = row
        if ok:
            break
        if time.monotonic() >= deadline:
            raise _locked(database, connection, name, timeout)
        time.sleep(CHECK_INTERVAL)
    if shared:
        fetch_none(connection, "SELECT pg_advisory_unlock(%s)", (key,))
        raise pooled_session(database, name)
    if not exists and not create:
        fetch_none(connection, "SELECT pg_advisory_unlock_all()")
        raise EnvironmentNotFound(name)
    return int(backend)


def _locked(
    database: Database, connection: pg.connection, name: str, waited: float
) -> EnvironmentLocked:
    found = live_holder(connection, database.schema, name)
    if found is None:
        return EnvironmentLocked(name, None, None, None, None, waited)
    return EnvironmentLocked(
        name, found.pid, found.host, found.command, found.since.isoformat(), waited
    )


def _now() -> datetime:
    return datetime.now(UTC)
