"""The PostgreSQL store's held lock: a session-level advisory lock, and every write of the
command through that very session.

Because the saves use the session that holds the lock, a command whose session ended
(server restart, ``pg_terminate_backend``, a cut network) cannot write any more: its next
save fails. A watchdog thread pings the session every ``PING_SECONDS`` (and ships the
traces' new bytes), so that a lost session is noticed while a step runs: it calls
``on_lost``, which stops the step and ends the command with ``LockLost`` (exit 7).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from statemgr.errors import (
    DatabaseError,
    EnvironmentExists,
    EnvironmentNotFound,
    LockLost,
    RevisionConflict,
    StatemgrError,
    StorageError,
)
from statemgr.model import Snapshot, Transition
from statemgr.serialization import dumps, loads, to_document, transition_line
from statemgr.store.base import LockHolder, OpenedTrace, recorded
from statemgr.store.postgres_connect import driver
from statemgr.store.postgres_db import Database, database_errors, fetch_one, lock_lost
from statemgr.store.postgres_traces import Shipper, row_params
from statemgr.store.traces import new_trace_file

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

    from statemgr.layout import Layout

PING_SECONDS = 2.0

_COLUMNS = "lineage, revision, schema_version, state, updated_at, operation, document"

_CREATE = """
WITH made AS (
  INSERT INTO {s}.environments (name, lineage, revision, schema_version, state, updated_at,
                                operation, document)
  VALUES (%(name)s, %(lineage)s, %(revision)s, %(schema_version)s, %(state)s, %(updated_at)s,
          %(operation)s, %(document)s)
  ON CONFLICT (name) DO NOTHING
  RETURNING name),
gone AS (DELETE FROM {s}.history h USING made WHERE h.name = made.name),
added AS (
  INSERT INTO {s}.history (name, position, revision, entry)
  SELECT made.name, e.position, e.revision, e.entry
  FROM made, unnest(%(positions)s::integer[], %(revisions)s::bigint[], %(entries)s::text[])
    AS e(position, revision, entry))
SELECT count(*) FROM made
"""

_SAVE = """
WITH saved AS (
  UPDATE {s}.environments SET revision = %(revision)s, schema_version = %(schema_version)s,
    state = %(state)s, updated_at = %(updated_at)s, operation = %(operation)s,
    document = %(document)s
  WHERE name = %(name)s AND revision = %(expected)s AND lineage = %(lineage)s
    AND pg_backend_pid() = %(backend)s
  RETURNING name),
added AS (
  INSERT INTO {s}.history (name, position, revision, entry)
  SELECT saved.name, e.position, e.revision, e.entry
  FROM saved, unnest(%(positions)s::integer[], %(revisions)s::bigint[], %(entries)s::text[])
    AS e(position, revision, entry))
SELECT count(*) FROM saved
"""

_DELETE = """
WITH gone AS (DELETE FROM {s}.environments WHERE name = %(name)s RETURNING name),
history AS (DELETE FROM {s}.history WHERE name = %(name)s),
traces AS (DELETE FROM {s}.traces WHERE name = %(name)s)
SELECT count(*) FROM gone
"""


def row_of(snapshot: Snapshot, known: int, lines: tuple[Transition, ...]) -> dict[str, Any]:
    """The columns of ``snapshot``'s row, and ``lines`` as the history entries from
    position ``known`` on."""
    import json

    part = to_document(snapshot)
    operation = part.get("operation")
    entries = [transition_line(line).decode("utf-8").rstrip("\n") for line in lines]
    return {
        "name": snapshot.environment.name,
        "lineage": str(snapshot.lineage),
        "revision": snapshot.revision,
        "schema_version": part["schema_version"],
        "state": snapshot.state.name.value,
        "updated_at": snapshot.updated_at,
        "operation": None if operation is None else json.dumps(operation, ensure_ascii=False),
        "document": dumps(snapshot).decode("utf-8"),
        "positions": list(range(known, known + len(entries))),
        "revisions": [line.revision for line in lines],
        "entries": entries,
    }


class PostgresLock:
    """A held lock on one environment of a ``PostgresStore`` (its ``EnvironmentLock``)."""

    def __init__(
        self,
        database: Database,
        layout: Layout,
        connection: pg.connection,
        holder: LockHolder,
        backend: int,
        name: str,
    ) -> None:
        self.database = database
        self.layout = layout
        self.connection = connection
        self._holder = holder
        self.backend = backend
        self._name = name
        self.schema = database.schema
        self.shipper = Shipper(self.schema, name)
        self._known: int | None = None  # history entries stored, once counted or written
        self._stop = threading.Event()
        self._io = threading.Lock()  # one statement at a time on the session
        self._watchdog: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def holder(self) -> LockHolder:
        return self._holder

    # --- the writes -----------------------------------------------------------------

    def load(self) -> Snapshot:
        sql = f"SELECT document FROM {self.schema}.environments WHERE name = %s"
        with self._session("read"):
            row = fetch_one(self.connection, sql, (self.name,))
        if row is None:
            raise EnvironmentNotFound(self.name)
        return loads(row[0], f"{self.database.where}/{self.name}")

    def create(self, snapshot: Snapshot) -> Snapshot:
        written = recorded(snapshot, 1)
        return self._insert(written, (written.latest,))

    def import_snapshot(self, snapshot: Snapshot, history: tuple[Transition, ...]) -> Snapshot:
        """Store ``snapshot`` as it is (revision, lineage, times), and its history:
        ``store copy``."""
        return self._insert(snapshot, history)

    def save(self, snapshot: Snapshot) -> Snapshot:
        self._check(snapshot)
        written = recorded(snapshot, snapshot.revision + 1)
        appended = (written.latest,) if written.latest is not snapshot.latest else ()
        params = row_of(written, self._stored_history(), appended)
        params.update(expected=snapshot.revision, backend=self.backend)
        with self._session("save the state of", kept=True):
            row = fetch_one(self.connection, _SAVE.format(s=self.schema), params)
        if not row or row[0] != 1:
            raise self._conflict(snapshot)
        self._known = self._stored_history() + len(params["entries"])
        self._ship()
        return written

    def delete(self) -> None:
        with self._session("remove"):
            row = fetch_one(self.connection, _DELETE.format(s=self.schema), {"name": self.name})
        if not row or row[0] == 0:
            raise EnvironmentNotFound(self.name)
        self.shipper.shipments.clear()
        # This machine's data/NAME, if any; never a file-store environment's of the same name.
        if not self.layout.state_file(self.name).exists():
            shutil.rmtree(self.layout.data_dir(self.name), ignore_errors=True)

    def open_trace(self, command: str) -> OpenedTrace:
        folder = self.layout.traces_dir(self.name)
        try:
            path = new_trace_file(folder, command)
        except OSError as error:
            where = self.layout.relative(folder)
            raise StorageError(where, "create a trace file in", error, env=self.name) from None
        run = self.layout.relative(path)
        sql = (
            f"INSERT INTO {self.schema}.traces (name, run, command, started_at) "
            "VALUES (%s, %s, %s, now())"
        )
        with self._session("record the trace in"):
            fetch_none(self.connection, sql, (self.name, run, command))
        self.shipper.add(path, run)
        return OpenedTrace(path=path, name=run)

    def import_trace(self, run: str, command: str, data: bytes) -> None:
        """Store a whole trace under its run name (``store copy``)."""
        sql = (
            f"INSERT INTO {self.schema}.traces (name, run, command, started_at, size, head, "
            "tail) VALUES (%(name)s, %(run)s, %(command)s, now(), %(size)s, %(head)s, %(tail)s)"
        )
        params = row_params(self.name, run, data)
        params["command"] = command
        with self._session("copy a trace into"):
            fetch_none(self.connection, sql, params)

    # --- the watchdog ---------------------------------------------------------------

    def watch(self, on_lost: Callable[[StatemgrError], None]) -> None:
        if self._watchdog is not None:
            return
        self._watchdog = threading.Thread(
            target=self._watch, args=(on_lost,), name=f"statemgr-watch-{self.name}", daemon=True
        )
        self._watchdog.start()

    def _watch(self, on_lost: Callable[[StatemgrError], None]) -> None:
        psycopg2 = driver()
        while not self._stop.wait(PING_SECONDS):
            try:
                with self._io:
                    self.shipper.ship(self.connection)
                    fetch_none(self.connection, "SELECT 1")
            except psycopg2.Error as error:
                if not self._stop.is_set():
                    self._stop.set()
                    on_lost(lock_lost(self.database, self.name, error))
                return

    def release(self) -> None:
        """Ship the traces' last bytes, forget the holder, let go of the lock, close."""
        self._stop.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join()
        with contextlib.suppress(driver().Error):
            with self._io:
                self.shipper.ship(self.connection)
            forget_holder(self.connection, self.schema, self.name, self.backend)
        self.connection.close()

    # --- helpers --------------------------------------------------------------------

    def _insert(self, snapshot: Snapshot, history: tuple[Transition, ...]) -> Snapshot:
        self._check(snapshot)
        params = row_of(snapshot, 0, history)
        with self._session("create the state in", kept=True):
            row = fetch_one(self.connection, _CREATE.format(s=self.schema), params)
        if not row or row[0] != 1:
            raise EnvironmentExists(self.name)
        self._known = len(params["entries"])
        return snapshot

    def _stored_history(self) -> int:
        """How many history entries the row has (asked only when nothing was loaded)."""
        if self._known is None:
            sql = f"SELECT count(*) FROM {self.schema}.history WHERE name = %s"
            with self._session("read"):
                row = fetch_one(self.connection, sql, (self.name,))
            self._known = int(row[0]) if row else 0
        return self._known

    def _ship(self) -> None:
        with self._session("ship the trace to"), self._io:
            self.shipper.ship(self.connection)

    def _conflict(self, snapshot: Snapshot) -> RevisionConflict:
        from statemgr.store.file import LineageConflict

        sql = (
            f"SELECT revision, lineage::text, pg_backend_pid() FROM {self.schema}.environments "
            "WHERE name = %s"
        )
        with self._session("read"):
            row = fetch_one(self.connection, sql, (self.name,))
        if row is None:
            return RevisionConflict(self.name, snapshot.revision, None)
        revision, lineage, backend = row
        if backend != self.backend:
            raise pooled_session(self.database, self.name)
        if lineage != str(snapshot.lineage):
            import uuid

            return LineageConflict(self.name, snapshot.lineage, uuid.UUID(lineage), revision)
        return RevisionConflict(self.name, snapshot.revision, revision)

    @contextlib.contextmanager
    def _session(self, action: str, *, kept: bool = False) -> Iterator[None]:
        """Driver errors become ``DatabaseError``; a session that ended, ``LockLost``."""
        try:
            with database_errors(self.database, action, self.name, holding=True):
                yield
        except DatabaseError as error:
            error.state_kept = kept
            if isinstance(error, LockLost):
                self._stop.set()  # the watchdog has nothing more to say
            raise

    def _check(self, snapshot: Snapshot) -> None:
        if snapshot.environment.name != self.name:
            other = snapshot.environment.name
            raise ValueError(f"the lock of '{self.name}' cannot write '{other}'")


def fetch_none(connection: pg.connection, sql: str, params: Any = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def forget_holder(connection: pg.connection, schema: str, name: str, backend: int) -> None:
    sql = (
        f"WITH gone AS (DELETE FROM {schema}.holders WHERE name = %s AND backend_pid = %s) "
        "SELECT pg_advisory_unlock_all()"
    )
    fetch_none(connection, sql, (name, backend))


def pooled_session(database: Database, name: str) -> StatemgrError:
    """The lock's session changed under the command: a pooler in transaction mode."""
    return database.target.error(
        "keep a session with",
        "the statements of one command reached different server sessions (a connection "
        "pooler in transaction mode, such as PgBouncer with pool_mode=transaction); "
        "its locks cannot work there",
        name,
        hint="connect directly to PostgreSQL, or through a pooler in session mode "
        "(see docs/postgresql.md)",
    )
