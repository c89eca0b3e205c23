"""The PostgreSQL store's tables, and the migrations of their layout.

Everything lives in one schema (``statemgr``, or STATEMGR_PG_SCHEMA):

    meta          key/value; ``layout_version`` says which layout the tables have
    environments  one row per environment: the snapshot as text (byte for byte what the
                  file store writes: JSONB would reject some strings and reorder keys),
                  and the columns ``list`` reads without parsing it
    history       one row per transition, written in the same statement as the save
    traces        one row per command run: the first 256 KiB and the last 768 KiB
    holders       who holds each lock (UNLOGGED: a record is worth nothing after a crash,
                  and it is trusted only while pg_locks shows its session holding the key)

The first state-changing command creates the schema (when the role may) and the tables,
in one transaction under a transaction-level advisory lock, so that two first commands
do not race. Reading commands never create anything.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING

from statemgr.errors import StateFileUnreadable, UsageError

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

    from statemgr.store.postgres_connect import Target

LAYOUT_VERSION = 1
SCHEMA_VARIABLE = "STATEMGR_PG_SCHEMA"
DEFAULT_SCHEMA = "statemgr"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
NAME_CHECK = r"name ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' AND length(name) <= 63"

LAYOUTS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE {s}.meta (key text PRIMARY KEY, value text NOT NULL)",
        "CREATE TABLE {s}.environments ("
        f" name text PRIMARY KEY CONSTRAINT environment_name CHECK ({NAME_CHECK}),"
        " lineage uuid NOT NULL,"
        " revision bigint NOT NULL CHECK (revision > 0),"
        " schema_version integer NOT NULL,"
        " state text NOT NULL,"
        " updated_at timestamptz NOT NULL,"
        " operation text,"
        " document text NOT NULL)",
        "CREATE TABLE {s}.history ("
        " name text NOT NULL,"
        " position integer NOT NULL,"
        " revision bigint,"
        " entry text NOT NULL,"
        " PRIMARY KEY (name, position))",
        "CREATE TABLE {s}.traces ("
        " name text NOT NULL,"
        " run text NOT NULL,"
        " command text NOT NULL,"
        " started_at timestamptz NOT NULL,"
        " size bigint NOT NULL DEFAULT 0,"
        " head bytea NOT NULL DEFAULT ''::bytea,"
        " tail bytea NOT NULL DEFAULT ''::bytea,"
        " result text,"
        " PRIMARY KEY (name, run))",
        "CREATE UNLOGGED TABLE {s}.holders ("
        " name text PRIMARY KEY,"
        " lock_key bigint NOT NULL,"
        " backend_pid integer NOT NULL,"
        " backend_start timestamptz NOT NULL,"
        " token text NOT NULL,"
        " pid integer NOT NULL,"
        " host text NOT NULL,"
        " command text NOT NULL,"
        " since timestamptz NOT NULL)",
    ),
}


class NewerLayout(StateFileUnreadable):
    """Tables written by a newer statemgr (exit 6): nothing is changed."""

    def __init__(self, where: str, found: int) -> None:
        super().__init__(where, [f"layout_version {found} > {LAYOUT_VERSION}"])
        self.message = (
            f"the tables of {where} have layout version {found}, newer than "
            f"{LAYOUT_VERSION}, the newest this statemgr knows"
        )
        self.args = (self.message,)
        self.hint = "upgrade statemgr to use this database; nothing was changed"


def schema_name() -> str:
    """The schema of the store's tables (``UsageError`` for a name that is not plain)."""
    name = os.environ.get(SCHEMA_VARIABLE) or DEFAULT_SCHEMA
    if not _IDENTIFIER.fullmatch(name):
        raise UsageError(
            f"{SCHEMA_VARIABLE}={name!r} is not a plain schema name "
            f"(lower-case letters, digits and '_', at most 63)"
        )
    return name


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for ``parts`` (blake2b: no collisions in practice,
    where crc32 collided 151 times in a million names)."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def split_key(key: int) -> tuple[int, int]:
    """The (classid, objid) under which pg_locks shows an advisory lock on ``key``."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


def check_version(found: int, where: str) -> None:
    if found > LAYOUT_VERSION:
        raise NewerLayout(where, found)


def layout_version(cursor: pg.cursor, schema: str) -> int | None:
    """The layout version of ``schema``, or None when it has no tables (or does not exist)."""
    cursor.execute("SELECT to_regclass(%s)", (f"{schema}.meta",))
    row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    cursor.execute(f"SELECT value FROM {schema}.meta WHERE key = 'layout_version'")
    found = cursor.fetchone()
    return int(found[0]) if found else 0


def prepare_layout(cursor: pg.cursor, schema: str, target: Target) -> None:
    """Make the tables current: create the schema and tables, or migrate them, in one
    transaction under a transaction-level advisory lock. Costs one query when current."""
    where = f"schema {schema} of {target.database!r} on {target.host}"
    found = layout_version(cursor, schema)
    if found is not None:
        check_version(found, where)
        if found == LAYOUT_VERSION:
            return
    cursor.execute("BEGIN")
    try:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(schema, "layout"),))
        _create_schema(cursor, schema)
        found = layout_version(cursor, schema) or 0
        check_version(found, where)
        for version in range(found + 1, LAYOUT_VERSION + 1):
            for statement in LAYOUTS[version]:
                cursor.execute(statement.format(s=schema))
        cursor.execute(
            f"INSERT INTO {schema}.meta (key, value) VALUES ('layout_version', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(LAYOUT_VERSION),),
        )
        cursor.execute("COMMIT")
    except BaseException:
        cursor.connection.rollback()
        raise


def _create_schema(cursor: pg.cursor, schema: str) -> None:
    """``CREATE SCHEMA`` when it is missing: ``IF NOT EXISTS`` alone fails for a role
    without CREATE on the database even when the schema is there."""
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cursor.fetchone() is None:
        cursor.execute(f"CREATE SCHEMA {schema}")


def setup_sql(schema: str, role: str) -> str:
    """What an administrator runs for a role that may not create the schema itself."""
    return f"CREATE SCHEMA {schema} AUTHORIZATION {role};"
