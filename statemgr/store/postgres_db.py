"""What the PostgreSQL store's readers and its held lock share: the target, the schema,
and turning driver errors into statemgr's (exit 7 naming host and database; a lost
session of a held lock is ``LockLost``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from statemgr.errors import DatabaseError, LockLost
from statemgr.store.postgres_connect import Target, connect, driver, first_line

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

MISSING_RELATION = ("42P01", "3F000")  # undefined_table, invalid_schema_name
INSUFFICIENT_PRIVILEGE = "42501"


class Database(NamedTuple):
    """The store's database (``target``) and the schema of its tables."""

    target: Target
    schema: str

    @property
    def where(self) -> str:
        """How messages name a stored environment's home."""
        return f"postgresql {self.target.database}/{self.schema}"

    def connect(self, application_name: str, env: str | None = None) -> pg.connection:
        return connect(self.target, application_name, env)

    def privilege_hint(self) -> str:
        return (
            f"grant this role USAGE on schema {self.schema} and SELECT, INSERT, UPDATE, "
            f"DELETE on its tables (see docs/postgresql.md), then retry"
        )

    def error(self, action: str, error: BaseException, env: str | None = None) -> DatabaseError:
        """``error`` (a driver error) as a ``DatabaseError``."""
        code = getattr(error, "pgcode", None)
        hint = self.privilege_hint() if code == INSUFFICIENT_PRIVILEGE else None
        return self.target.error(action, reason(error), env, hint=hint)


def reason(error: BaseException) -> str:
    """The server's primary message (never its DETAIL, which may quote row values)."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return " ".join(primary.split()) if primary else first_line(error)


def is_missing_relation(error: BaseException) -> bool:
    return getattr(error, "pgcode", None) in MISSING_RELATION


def is_disconnect(error: BaseException) -> bool:
    """A session that ended (terminated backend, restart, cut network), not a bad statement."""
    psycopg2 = driver()
    if isinstance(error, psycopg2.InterfaceError):
        return True
    if not isinstance(error, psycopg2.OperationalError):
        return False
    code = getattr(error, "pgcode", None)
    return code is None or code.startswith(("08", "57P"))


@contextlib.contextmanager
def database_errors(
    database: Database, action: str, env: str | None = None, *, holding: bool = False
) -> Iterator[None]:
    """Driver errors in the block become ``DatabaseError``; with ``holding`` (a held lock's
    session), a session that ended becomes ``LockLost``."""
    psycopg2 = driver()
    try:
        yield
    except psycopg2.Error as error:
        if holding and env is not None and is_disconnect(error):
            raise lock_lost(database, env, error) from None
        raise database.error(action, error, env) from None


def lock_lost(database: Database, env: str, error: BaseException) -> LockLost:
    return LockLost(env, database.target.host, database.target.database, reason(error))


def fetch_one(connection: pg.connection, sql: str, params: Any = None) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row


def fetch_all(connection: pg.connection, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
