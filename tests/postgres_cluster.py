"""A throwaway PostgreSQL cluster for the tests (a real server, never a mock).

The first test that asks for one starts it (about a second): ``initdb`` into a fresh
``mkdtemp`` folder owned by ``postgres`` (initdb and postgres refuse root, and pytest's own
tmp folders are 0700 root), then ``pg_ctl start`` listening on 127.0.0.1 and a free port.
Each pytest-xdist worker starts its own. Tests are isolated by schema
(``STATEMGR_PG_SCHEMA``), one per test.

Stopping is by the postmaster's pid (from ``postmaster.pid``), from the fixture's
finalizer, from ``atexit`` and SIGTERM/SIGHUP handlers, and, should pytest be SIGKILLed, by
a small watcher process that stops the server once pytest is gone. No server is left
running after the run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", SUPERUSER, "--", *argv],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


class Cluster:
    """One running server: its folder, port and postmaster pid."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync and synchronous commits on, as a real server has them
        self.folder = Path(tempfile.mkdtemp(prefix="statemgr-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.pid: int | None = None
        self.tls = False
        shutil.chown(self.folder, SUPERUSER, SUPERUSER)

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        _as_postgres(
            str(BIN / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust",
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        with (self.data / "pg_hba.conf").open("r+") as hba:
            rules = hba.read()
            hba.seek(0)  # a role for the password tests, before the trust lines
            hba.write("host all pwuser 127.0.0.1/32 scram-sha-256\n" + rules)
        options = (
            f"-k {self.folder} -c listen_addresses=127.0.0.1 -c port={self.port} "
            "-c max_connections=200"
        )
        if not self.durable:  # the tests need no durability across a power cut
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if self._make_certificate():
            options += " -c ssl=on"
        _as_postgres(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        _watch_parent(os.getpid(), self.pid, self.folder)

    def _make_certificate(self) -> bool:
        """A self-signed certificate for TLS (sslmode=require), when openssl is there."""
        openssl = shutil.which("openssl")
        if openssl is None:
            return False
        crt, key = self.data / "server.crt", self.data / "server.key"
        subprocess.run(
            [openssl, "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=127.0.0.1",
             "-out", str(crt), "-keyout", str(key)],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        for path in (crt, key):
            shutil.chown(path, SUPERUSER, SUPERUSER)
            path.chmod(0o600)
        self.tls = True
        return True

    def stop(self) -> None:
        """Fast shutdown by pid; SIGQUIT if it lingers. Idempotent."""
        pid, self.pid = self.pid, None
        if pid is not None:
            _signal_and_wait(pid)
        shutil.rmtree(self.folder, ignore_errors=True)

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser; its rows (if any)."""
        import psycopg2

        connection = psycopg2.connect(self.url.rsplit("/", 1)[0] + f"/{database}")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()


def _signal_and_wait(pid: int) -> None:
    for number, wait in ((signal.SIGINT, 10.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _watch_parent(parent: int, postmaster: int, folder: Path) -> None:
    """A detached watcher: once ``parent`` (pytest) is gone, stop the postmaster and
    remove its folder."""
    script = (
        f"while kill -0 {parent} 2>/dev/null && kill -0 {postmaster} 2>/dev/null; "
        f"do sleep 0.5; done; kill -INT {postmaster} 2>/dev/null; "
        f"for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 {postmaster} 2>/dev/null || break; "
        f"sleep 0.5; done; kill -QUIT {postmaster} 2>/dev/null; sleep 1; "
        f"rm -rf '{folder}'; exit 0"
    )
    subprocess.Popen(
        ["sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


_RUNNING: list[Cluster] = []


def _stop_all() -> None:
    while _RUNNING:
        _RUNNING.pop().stop()


def _on_signal(number: int, _frame: FrameType | None) -> None:
    _stop_all()
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)


def postgres_available() -> bool:
    return (BIN / "initdb").exists() and shutil.which("runuser") is not None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Cluster]:
    """A running throwaway cluster for this process (skips when PostgreSQL is missing)."""
    if not postgres_available():
        pytest.skip("PostgreSQL 15 server binaries are not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg2")
    cluster = Cluster()
    _RUNNING.append(cluster)
    if len(_RUNNING) == 1:
        atexit.register(_stop_all)
        for number in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(ValueError):
                signal.signal(number, _on_signal)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()
    with contextlib.suppress(ValueError):
        _RUNNING.remove(cluster)


@pytest.fixture
def pg_schema(monkeypatch: pytest.MonkeyPatch) -> str:
    """A schema of this test's own (``STATEMGR_PG_SCHEMA``); created by the first write."""
    name = f"t_{secrets.token_hex(6)}"
    monkeypatch.setenv("STATEMGR_PG_SCHEMA", name)
    return name


@pytest.fixture
def pg_url(postgres_server: Cluster, pg_schema: str) -> str:
    """The store URL of the throwaway cluster, with this test's schema."""
    return postgres_server.url


PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def start_pgbouncer(cluster: Cluster, mode: str, pool_size: int) -> tuple[str, int, Path]:
    """A PgBouncer in front of ``cluster`` (``pool_mode`` ``mode``): its URL, pid, folder."""
    folder = cluster.folder / f"pgbouncer-{mode}-{secrets.token_hex(3)}"
    folder.mkdir()
    port = _free_port()
    (folder / "userlist.txt").write_text(f'"{SUPERUSER}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"postgres = host=127.0.0.1 port={cluster.port} dbname=postgres\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder}/userlist.txt\n"
        f"pool_mode = {mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 50\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder}/pgbouncer.log\npidfile = {folder}/pgbouncer.pid\n"
    )
    shutil.chown(folder, SUPERUSER, SUPERUSER)
    for path in folder.iterdir():
        shutil.chown(path, SUPERUSER, SUPERUSER)
    _as_postgres(PGBOUNCER, "-d", str(folder / "pgbouncer.ini"))
    pid_file = folder / "pgbouncer.pid"
    deadline = time.monotonic() + 10
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pid_file.read_text().split()[0])
    _watch_parent(os.getpid(), pid, folder)
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", pid, folder


def stop_pgbouncer(pid: int) -> None:
    _signal_and_wait(pid)
