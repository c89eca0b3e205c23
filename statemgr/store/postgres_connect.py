"""Connections to the PostgreSQL store's database.

A connection string is a libpq URL (``postgresql://`` or ``postgres://``); libpq honours
the PG* environment variables, ~/.pgpass and service files as usual. statemgr adds
defaults that make a dead peer noticed within seconds (``connect_timeout``, client
keepalives, ``tcp_user_timeout``) unless the URL (or PGCONNECT_TIMEOUT) sets them, and an
``application_name`` naming the command. Errors name the host and the database and never
the password.

The driver is psycopg2 (the extra ``postgresql``): it imports in ~30 ms, a quarter of
psycopg 3, which matters to a ``status`` that must answer about as fast as Terraform.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from statemgr.errors import DatabaseError, UsageError

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

INSTALL_EXTRA = "pip install 'statemgr[postgresql]'"
DEFAULTS = {
    "connect_timeout": "6",  # per address; a refused connection fails at once anyway
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "9000",  # ms: unacknowledged data on a cut network
}
_FROM_ENVIRONMENT = {"connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME"}
DEFAULT_SOCKET = "/var/run/postgresql"


def driver() -> Any:
    """The psycopg2 module; ``UsageError`` (exit 2) naming the install command without it."""
    try:
        psycopg2 = _import_psycopg2()
    except ImportError:
        raise UsageError(
            f"the PostgreSQL store needs its driver, which is not installed; install it "
            f"with: {INSTALL_EXTRA}",
            hint="or use the file store (--store file)",
        ) from None
    return psycopg2


def _import_psycopg2() -> Any:
    """``import psycopg2``, without the ``ssl`` module it imports for nothing here.

    psycopg2 imports Python's ``ssl`` at start-up only to leave libcrypto's thread locking
    to Python, which OpenSSL 1.1 and later (psycopg2-binary bundles 3.x) do themselves;
    when that import fails it lets libpq set up OpenSSL, which is what happens anyway.
    Blocking it for that one import saves ~20 ms of every command's start-up; TLS is
    libpq's own and works the same (and ``ssl`` imports normally afterwards).
    """
    blocked = "ssl" not in sys.modules
    if blocked:
        sys.modules["ssl"] = None  # type: ignore[assignment]
    try:
        import psycopg2
        import psycopg2.extensions
    finally:
        if blocked and sys.modules.get("ssl", 0) is None:
            del sys.modules["ssl"]
    return psycopg2


class Target(NamedTuple):
    """Where the store's database is: the URL as given, and its host and database for
    messages. The password is kept only to be scrubbed from messages (and its repr
    shows only the host and the database)."""

    url: str
    host: str
    database: str
    explicit: frozenset[str]
    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Target(host={self.host!r}, database={self.database!r})"

    def scrub(self, text: str) -> str:
        """``text`` without the password (a driver message could quote it back)."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def error(
        self, action: str, reason: str, env: str | None = None, **extra: Any
    ) -> DatabaseError:
        return DatabaseError(self.host, self.database, action, self.scrub(reason), env, **extra)


def parse_target(url: str) -> Target:
    """The ``Target`` of a postgresql:// URL (``UsageError`` when it is malformed)."""
    psycopg2 = driver()
    try:
        params: dict[str, str] = psycopg2.extensions.parse_dsn(url)
    except psycopg2.ProgrammingError as error:
        secret = _url_password(url)
        reason = str(error).strip().replace(secret, "***") if secret else str(error).strip()
        raise UsageError(f"bad PostgreSQL URL: {reason}") from None
    host = params.get("host") or os.environ.get("PGHOST") or DEFAULT_SOCKET
    port = params.get("port") or os.environ.get("PGPORT")
    shown_host = f"{host}:{port}" if port and not host.startswith("/") else host
    user = params.get("user") or os.environ.get("PGUSER") or _login()
    database = params.get("dbname") or os.environ.get("PGDATABASE") or user
    secrets = (params.get("password", ""), os.environ.get("PGPASSWORD", ""))
    return Target(url, shown_host, database, frozenset(params), tuple(s for s in secrets if s))


def connect(target: Target, application_name: str, env: str | None = None) -> pg.connection:
    """A new autocommit connection, or ``DatabaseError`` (exit 7) naming host and database."""
    psycopg2 = driver()
    options = {
        key: value
        for key, value in DEFAULTS.items()
        if key not in target.explicit and not os.environ.get(_FROM_ENVIRONMENT.get(key, "-"))
    }
    if "application_name" not in target.explicit and not os.environ.get("PGAPPNAME"):
        options["application_name"] = application_name[:63]
    try:
        connection: pg.connection = psycopg2.connect(target.url, **options)
    except psycopg2.Error as error:
        hint = _connect_hint(error)
        raise target.error("connect to", first_line(error), env, hint=hint) from None
    connection.autocommit = True
    return connection


def first_line(error: BaseException) -> str:
    """The first line of the driver's message (libpq adds lines of guesses, with tabs)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return " ".join(lines[0].split()) if lines else type(error).__name__


def _connect_hint(error: BaseException) -> str:
    text = str(error)
    if "password" in text or "authentication" in text:
        return (
            "check the user and password (URL, PGPASSWORD, ~/.pgpass) and pg_hba.conf, "
            "then retry; see docs/postgresql.md"
        )
    return "check that the database server is up and reachable (host, port), then retry"


def _url_password(url: str) -> str:
    credentials = url.partition("://")[2].rpartition("@")[0]
    return credentials.partition(":")[2] if credentials else ""


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "postgres"
