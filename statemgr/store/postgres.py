"""The PostgreSQL store: environments shared by every machine that reaches one database.

The readers (``status``, ``list``, ``history``, ``logs``) use one plain session and take
no lock: MVCC never makes them wait for a writer, nor a writer for them. A command's lock
is a session-level advisory lock on a session of its own, and all of the command's writes
go through that session (``statemgr.store.postgres_lock``). Reading commands never create
anything: on a database without the tables, ``list`` is empty and ``status NAME`` exit 5.

build/, logs/ and data/NAME (traces as they are written, files of the steps) stay on the
machine that runs the command.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import uuid
from collections.abc import Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

from machines.names import StateName
from statemgr.errors import (
    EnvironmentNotFound,
    StateFileUnreadable,
    StatemgrError,
    TraceNotFound,
)
from statemgr.layout import Layout
from statemgr.model.behaviour import SCHEMA_VERSION, SnapshotSummary
from statemgr.model.names import EnvironmentName
from statemgr.store.base import TRACE_CHUNK, Listing, LockHolder
from statemgr.store.postgres_connect import driver, parse_target
from statemgr.store.postgres_db import Database, database_errors, fetch_all, is_missing_relation
from statemgr.store.postgres_schema import check_version, lock_key, schema_name, split_key
from statemgr.store.reader import kinds_for, loads, summary

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

    from statemgr.model import Snapshot, Transition
    from statemgr.model.traces import TraceRun
    from statemgr.store.postgres_lock import PostgresLock

_LOAD = """
SELECT m.value, e.document FROM {s}.meta m
LEFT JOIN {s}.environments e ON e.name = %s
WHERE m.key = 'layout_version'
"""

_HISTORY = """
SELECT h.position, h.revision, h.entry FROM {s}.history h
JOIN {s}.environments e ON e.name = h.name
WHERE h.name = %s AND (h.revision IS NULL OR h.revision <= e.revision)
ORDER BY h.position
"""

_LIST = """
SELECT e.name, e.state, e.updated_at, e.revision, e.lineage::text, e.schema_version,
       CASE WHEN e.operation IS NOT NULL OR e.schema_version <> %(current)s
            THEN e.document END
FROM {s}.environments e ORDER BY e.name
"""

_ADVISORY = """
SELECT l.classid::bigint, l.objid::bigint FROM pg_locks l
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class PostgresStore:
    """Environments in a PostgreSQL database; implements ``statemgr.store.Store``."""

    def __init__(self, url: str, layout: Layout, *, views: bool = False) -> None:
        """``views``: read snapshots into read-only views, as the reading commands do
        (``statemgr.store.reader``); else into the attrs classes."""
        self.database = Database(parse_target(url), schema_name())
        self.layout = layout
        self.views = views
        self._reader: pg.connection | None = None

    def __repr__(self) -> str:
        return f"PostgresStore({self.database.target!r}, schema={self.database.schema!r})"

    @property
    def schema(self) -> str:
        return self.database.schema

    # --- reading ----------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        sql = f"SELECT 1 FROM {self.schema}.environments WHERE name = %s"
        return bool(self._query(sql, (EnvironmentName(name),), "read", name))

    def load(self, name: str) -> Snapshot:
        checked = EnvironmentName(name)
        rows = self._query(_LOAD.format(s=self.schema), (checked,), "read", checked)
        if not rows:
            raise EnvironmentNotFound(checked)
        version, document = rows[0]
        check_version(int(version), f"schema {self.schema} of {self.database.where}")
        if document is None:
            raise EnvironmentNotFound(checked)
        source = f"{self.database.where}/{checked}"
        try:
            return loads(document, source, kinds_for(self.views))
        except StateFileUnreadable as error:
            error.env = checked
            raise

    def history(self, name: str) -> tuple[Transition, ...]:
        """The history rows up to the state's revision, oldest first (an entry written
        before schema 4 has its revision in its row only)."""
        from statemgr.store.reader import transition

        checked = EnvironmentName(name)
        self.load(checked)  # the state first: a missing or unreadable one says so
        rows = self._query(_HISTORY.format(s=self.schema), (checked,), "read", checked)
        source = f"{self.database.where}/{checked} history"
        found = []
        for position, revision, entry in rows:
            line = transition(entry.encode("utf-8"), f"{source} entry {position}")
            if line.revision is None:
                import attrs  # an entry written before schema 4: the attrs class, then

                line = attrs.evolve(line, revision=revision)
            found.append(line)
        return tuple(found)

    def names(self) -> builtins.list[str]:
        sql = f"SELECT name FROM {self.schema}.environments ORDER BY name"
        return [row[0] for row in self._query(sql, None, "list the environments of")]

    def list(self) -> builtins.list[Listing]:
        sql = _LIST.format(s=self.schema)
        rows = self._query(sql, {"current": SCHEMA_VERSION}, "list the environments of")
        if not rows:
            return []
        held = self._held_keys()
        return [self._listing(row, held) for row in rows]

    def holder(self, name: str) -> LockHolder | None:
        from statemgr.store.postgres_holders import live_holder

        checked = EnvironmentName(name)
        with self._reading("read the lock holders of", checked) as connection:
            try:
                return live_holder(connection, self.schema, checked)
            except driver().Error as error:
                if is_missing_relation(error):
                    return None
                raise

    # --- traces -----------------------------------------------------------------------

    def runs(self, name: str) -> builtins.list[TraceRun]:
        from statemgr.store.postgres_traces import END_BYTES, RUNS_SQL, trace_run

        checked = EnvironmentName(name)
        sql = RUNS_SQL.format(s=self.schema, end=END_BYTES)
        rows = self._query(sql, (checked,), "read the traces of", checked)
        if not rows:
            raise EnvironmentNotFound(checked)
        return [trace_run(row) for row in rows if row[0] is not None]

    def read_trace(self, name: str, run: str, offset: int = 0, limit: int = TRACE_CHUNK) -> bytes:
        from statemgr.store.postgres_traces import READ_SQL, read_params, read_slice

        checked = EnvironmentName(name)
        params = read_params(checked, run, offset, limit)
        rows = self._query(READ_SQL.format(s=self.schema), params, "read a trace of", checked)
        if rows:
            return read_slice(rows[0], offset, limit)
        if not self.exists(checked):
            raise EnvironmentNotFound(checked)
        raise TraceNotFound(checked, run)

    # --- the lock ---------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(
        self, name: str, command: str, timeout: float = 0.0, *, create: bool = False
    ) -> Iterator[PostgresLock]:
        from statemgr.store.postgres_acquire import acquire

        checked = EnvironmentName(name)
        held = acquire(self.database, self.layout, checked, command, timeout, create)
        try:
            yield held
        finally:
            held.release()

    def close(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(Exception):
                self._reader.close()
            self._reader = None

    # --- helpers ----------------------------------------------------------------------

    def _listing(self, row: tuple[Any, ...], held: set[tuple[int, int]]) -> Listing:
        name, state, updated_at, revision, lineage, _version, document = row
        source = f"{self.database.where}/{name}"
        is_held = split_key(lock_key(self.schema, name)) in held
        try:
            if document is not None:  # in flight, or another schema: read it all
                found_summary = summary(document, source, kinds_for(self.views))
                return Listing(name, found_summary, held=is_held)
            found = SnapshotSummary(
                name=name,
                state=StateName(state),
                updated_at=updated_at.astimezone(UTC),
                revision=revision,
                lineage=uuid.UUID(lineage),
            )
        except StatemgrError as error:
            error.env = name
            return Listing(name, None, error, held=is_held)
        except ValueError as error:
            return Listing(name, None, StateFileUnreadable(source, [str(error)], env=name))
        return Listing(name, found, held=is_held)

    def _held_keys(self) -> set[tuple[int, int]]:
        rows = self._query(_ADVISORY, None, "read the locks of")
        return {(int(classid), int(objid)) for classid, objid in rows}

    def _query(
        self, sql: str, params: Any, action: str, env: str | None = None
    ) -> builtins.list[tuple[Any, ...]]:
        """The rows of a reading statement; none when the tables do not exist (yet)."""
        with self._reading(action, env) as connection:
            try:
                return fetch_all(connection, sql, params)
            except driver().Error as error:
                if is_missing_relation(error):
                    return []
                raise

    @contextlib.contextmanager
    def _reading(self, action: str, env: str | None) -> Iterator[pg.connection]:
        with database_errors(self.database, action, env):
            if self._reader is None or self._reader.closed:
                application = f"statemgr reader pid {os.getpid()}"
                self._reader = self.database.connect(application, env)
            yield self._reader
