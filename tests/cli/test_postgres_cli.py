"""The PostgreSQL store through the installed ``statemgr``, against a real throwaway server.

Two workspaces on one database act as two machines: they share environments and locks,
and nothing else (build/, data/ and logs/ stay in each).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_cluster import Cluster

from .support import (
    Result,
    alive,
    clean_env,
    installed,
    kill_quietly,
    start_installed,
    wait_for,
    write_config,
)

PASSWORD = "s3cret-Pw-9f2"


def sm(workdir: Path, url: str, *argv: str, env: dict[str, str] | None = None) -> Result:
    return installed("--store", url, *argv, cwd=workdir, env=env)


@pytest.fixture
def machines(tmp_path: Path) -> tuple[Path, Path]:
    """Two workspaces, as two machines would have them."""
    first, second = tmp_path / "machine-a", tmp_path / "machine-b"
    first.mkdir()
    second.mkdir()
    return first, second


def waiting_config(folder: Path, marker: Path, release: Path) -> Path:
    """A provision step that says it started, then waits for ``release`` to exist."""
    script = f"echo started > {marker}; while [ ! -e {release} ]; do sleep 0.05; done"
    return write_config(
        folder,
        "web",
        provision=[{"name": "wait", "run": ["sh", "-c", script]}],
        destroy=[{"name": "gone", "run": ["true"]}],
    )


@pytest.fixture
def provisioning(
    machines: tuple[Path, Path], pg_url: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Machine A runs 'provision web', whose step waits; yields it and the release file."""
    first, _second = machines
    marker, release = tmp_path / "started", tmp_path / "release"
    config = waiting_config(first, marker, release)
    assert sm(first, pg_url, "create", str(config)).code == 0
    process = start_installed("--store", pg_url, "provision", "web", cwd=first)
    try:
        wait_for(marker.exists, 30, "the step to start")
        yield process, release
    finally:
        release.touch()
        if process.poll() is None:
            process.kill()
        process.communicate()


def step_pids(release: Path) -> list[int]:
    """The waiting step's shell (its command line names the release file)."""
    from .support import processes_mentioning

    return processes_mentioning(str(release))


def test_two_machines_share_environments_and_locks(
    machines: tuple[Path, Path],
    pg_url: str,
    provisioning: tuple[subprocess.Popen[str], Path],
) -> None:
    _first, second = machines
    command, release = provisioning
    refused = sm(second, pg_url, "configure", "web")
    assert refused.code == 4, refused
    assert f"pid {command.pid} on {os.uname().nodename}" in refused.err
    assert "'provision'" in refused.err
    status = sm(second, pg_url, "status", "web", "--json")
    document = status.json()
    assert document["state"] == "provisioning" and document["in_progress"] is True
    assert document["lock"]["pid"] == command.pid and document["lock"]["command"] == "provision"
    assert document["interrupted"] is False
    listed = sm(second, pg_url, "list", "--json").json()
    assert listed == [
        {
            "name": "web",
            "state": "provisioning",
            "updated_at": document["updated_at"],
            "in_progress": True,
            "interrupted": False,
        }
    ]
    # machine A dies (SIGKILL): its session ends, and with it the lock
    leftovers = step_pids(release)
    command.send_signal(signal.SIGKILL)
    command.wait()

    def interrupted() -> bool:
        return bool(sm(second, pg_url, "status", "web", "--json").json()["interrupted"])

    wait_for(interrupted, 5, "the lock to be free")
    recovered = sm(second, pg_url, "recover", "web", "--json")
    assert recovered.code == 0, recovered
    assert recovered.json()["state"] == "provision_failed"
    assert recovered.json()["failure"]["error_kind"] == "interrupted"
    for pid in leftovers:  # machine A's step ran on "machine A": stop it here
        kill_quietly(pid)


def test_a_terminated_lock_session_stops_the_step_and_exits_7(
    machines: tuple[Path, Path],
    pg_url: str,
    pg_schema: str,
    postgres_server: Cluster,
    provisioning: tuple[subprocess.Popen[str], Path],
) -> None:
    _first, second = machines
    command, release = provisioning
    steps = step_pids(release)
    assert steps
    ended = postgres_server.sql(
        f"SELECT pg_terminate_backend(backend_pid) FROM {pg_schema}.holders WHERE name = 'web'"
    )
    assert ended == [(True,)]
    _out, err = command.communicate(timeout=20)
    assert command.returncode == 7, err
    assert "the lock was lost" in err and "'postgres' on 127.0.0.1" in err
    assert f"statemgr --store {pg_url} recover web" in err  # pasteable: the --store it had
    assert not any(alive(pid) for pid in steps)
    status = sm(second, pg_url, "status", "web", "--json").json()
    assert status["state"] == "provisioning" and status["interrupted"] is True
    assert sm(second, pg_url, "recover", "web").code == 0


def test_a_refused_connection_fails_at_once_naming_host_and_database(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://deploy:{PASSWORD}@127.0.0.1:{port}/inventory"
    for argv in (["list"], ["status", "web"], ["--json", "status", "web"]):
        result = sm(tmp_path, url, *argv)
        assert result.code == 7, result
        assert f"database 'inventory' on 127.0.0.1:{port}" in result.err
        assert PASSWORD not in result.err + result.out


def test_a_server_that_does_not_answer_fails_within_seconds(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            silent.settimeout(0.2)
            while not stop.is_set():
                try:
                    accepted.append(silent.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            result = sm(tmp_path, f"postgresql://deploy@127.0.0.1:{port}/inventory", "list")
        finally:
            stop.set()
            thread.join()
            for connection in accepted:
                connection.close()
    assert result.code == 7, result
    assert f"database 'inventory' on 127.0.0.1:{port}" in result.err


@pytest.fixture
def password_role(postgres_server: Cluster) -> str:
    """A role that logs in with a password (scram-sha-256 in pg_hba.conf)."""
    postgres_server.sql(
        "DO $$ BEGIN CREATE ROLE pwuser LOGIN SUPERUSER; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    postgres_server.sql(f"ALTER ROLE pwuser PASSWORD '{PASSWORD}'")
    return f"postgresql://pwuser:{PASSWORD}@127.0.0.1:{postgres_server.port}/postgres"


def test_a_password_is_never_shown_logged_or_stored(
    workdir: Path, password_role: str, pg_schema: str, postgres_server: Cluster
) -> None:
    wrong = password_role.replace(PASSWORD, "not-the-" + PASSWORD)
    refused = sm(workdir, wrong, "list")
    assert refused.code == 7 and "password authentication failed" in refused.err
    assert PASSWORD not in refused.err + refused.out
    config = write_config(workdir, "web", provision=[{"name": "p", "run": ["true"]}])
    outputs = [sm(workdir, password_role, "-v", "create", str(config))]
    outputs.append(sm(workdir, password_role, "-v", "provision", "web"))
    outputs.append(sm(workdir, password_role, "status", "web", "--json"))
    outputs.append(sm(workdir, password_role, "history", "web", "--json"))
    assert [result.code for result in outputs] == [0, 0, 0, 0]
    for result in outputs:
        assert PASSWORD not in result.out + result.err
    for path in workdir.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    stored = postgres_server.sql(
        f"SELECT string_agg(document, '') || (SELECT string_agg(entry, '') FROM "
        f"{pg_schema}.history) || (SELECT string_agg(encode(head, 'escape'), '') FROM "
        f"{pg_schema}.traces) FROM {pg_schema}.environments"
    )
    assert PASSWORD not in stored[0][0]


def test_a_role_that_may_not_create_the_schema_is_told_the_sql(
    workdir: Path, postgres_server: Cluster, pg_schema: str
) -> None:
    postgres_server.sql(
        "DO $$ BEGIN CREATE ROLE app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    url = f"postgresql://app@127.0.0.1:{postgres_server.port}/postgres"
    assert sm(workdir, url, "list", "--json").json() == []  # readers create nothing
    assert sm(workdir, url, "status", "web").code == 5
    config = write_config(workdir, "web", provision=[{"name": "p", "run": ["true"]}])
    refused = sm(workdir, url, "create", str(config))
    assert refused.code == 7, refused
    assert f"CREATE SCHEMA {pg_schema} AUTHORIZATION app;" in refused.err
    postgres_server.sql(f"CREATE SCHEMA {pg_schema} AUTHORIZATION app")
    assert sm(workdir, url, "create", str(config)).code == 0
    assert sm(workdir, url, "status", "web", "--json").json()["state"] == "created"


def test_without_the_driver_the_store_is_refused_naming_the_extra(
    workdir: Path, tmp_path: Path
) -> None:
    shadow = tmp_path / "no-driver"  # the driver is not importable, as without the extra
    shadow.mkdir()
    (shadow / "psycopg2.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg2'\")\n"
    )
    env = clean_env(PYTHONPATH=str(shadow))
    result = sm(workdir, "postgresql://db.example/app", "--json", "list", env=env)
    assert result.code == 2, result
    assert json.loads(result.out)["error"]["kind"] == "usage"
    assert "pip install 'statemgr[postgresql]'" in result.err
    assert sm(workdir, "file", "list", env=env).code == 0  # the file store needs no driver


def test_logs_of_a_run_made_on_another_machine(machines: tuple[Path, Path], pg_url: str) -> None:
    first, second = machines
    step = {"name": "shout", "run": ["sh", "-c", "echo from-machine-a; echo oops >&2; exit 3"]}
    config = write_config(first, "web", provision=[step])
    assert sm(first, pg_url, "create", str(config)).code == 0
    failed = sm(first, pg_url, "provision", "web", "--json")
    assert failed.code == 1
    trace_file = sm(first, pg_url, "status", "web", "--json").json()["failure"]["trace_file"]
    shown = sm(second, pg_url, "logs", "web")
    assert shown.code == 0, shown
    assert "from-machine-a" in shown.out and "oops" in shown.out
    assert "statemgr trace end: failed" in shown.out
    assert sm(second, pg_url, "logs", "web", "--run", trace_file).out == shown.out
    listed = sm(second, pg_url, "logs", "web", "--list", "--json")
    assert listed.code == 0, listed
    assert trace_file in listed.out and "provision" in listed.out
    assert not (second / "data").exists()  # nothing of it was on machine B's disk


def test_store_copy_both_ways(machines: tuple[Path, Path], pg_url: str) -> None:
    first, second = machines
    step = {"name": "say", "run": ["sh", "-c", "echo said-it"]}
    config = write_config(first, "web", provision=[step], destroy=[step])
    other = write_config(first, "api", provision=[step])
    for argv in (["create", str(config)], ["provision", "web"], ["create", str(other)]):
        assert installed(*argv, cwd=first).code == 0
    before = {
        name: installed("status", name, "--json", cwd=first).json() for name in ("web", "api")
    }
    copied = installed("store", "copy", "--from", "file", "--to", pg_url, "--json", cwd=first)
    assert copied.code == 0, copied
    assert copied.json()["copied"] == ["api", "web"]
    for name, status in before.items():
        there = sm(second, pg_url, "status", name, "--json").json()
        # the same status; its suggested commands carry the --store they were asked with
        assert {**there, "next_steps": []} == {**status, "next_steps": []}
        assert all(f"statemgr --store {pg_url} " in step for step in there["next_steps"])
    history = installed("history", "web", "--json", cwd=first).out
    assert sm(second, pg_url, "history", "web", "--json").out == history
    logs = installed("logs", "web", cwd=first).out
    assert "said-it" in logs and sm(second, pg_url, "logs", "web").out == logs
    # again: every name is checked first, and nothing is copied
    assert (
        installed("create", str(write_config(first, "new", provision=[step])), cwd=first).code == 0
    )
    again = installed("store", "copy", "--from", "file", "--to", pg_url, cwd=first)
    assert again.code == 3 and "'web'" in again.err and "'api'" in again.err
    assert sm(second, pg_url, "status", "new").code == 5
    # and back, into another workspace, one name
    back = installed("store", "copy", "--from", pg_url, "--to", "file", "web", cwd=second)
    assert back.code == 0, back
    assert installed("status", "web", "--json", cwd=second).json() == before["web"]
    assert installed("history", "web", "--json", cwd=second).out == history
    assert installed("logs", "web", cwd=second).out == logs
    assert installed("status", "api", cwd=second).code == 5
    # the copy goes on: the copied environment works in its new store
    assert sm(second, pg_url, "destroy", "web", "--json").json()["state"] == "destroyed"


def test_store_copy_of_a_held_environment_exits_4(
    machines: tuple[Path, Path],
    pg_url: str,
    provisioning: tuple[subprocess.Popen[str], Path],
) -> None:
    _first, second = machines
    command, _release = provisioning
    result = installed("store", "copy", "--from", pg_url, "--to", "file", cwd=second)
    assert result.code == 4, result
    assert f"pid {command.pid}" in result.err
    assert not (second / "data" / "web" / "state.json").exists()


def test_tls_with_sslmode_require(workdir: Path, postgres_server: Cluster, pg_schema: str) -> None:
    if not postgres_server.tls:
        pytest.skip("openssl is not installed: the test cluster has no certificate")
    url = postgres_server.url + "?sslmode=require"
    config = write_config(workdir, "web", provision=[{"name": "p", "run": ["true"]}])
    for argv in (["create", str(config)], ["provision", "web"], ["status", "web"]):
        assert sm(workdir, url, *argv).code == 0
    assert sm(workdir, postgres_server.url + "?sslmode=disable", "list").code == 0


@pytest.mark.parametrize(
    ("mode", "pool_size", "code", "said"),
    [
        ("transaction", 1, 7, "a connection pooler in transaction mode"),
        ("session", 2, 4, "is locked by 'provision'"),
    ],
)
def test_behind_pgbouncer_only_session_pooling_is_used(
    machines: tuple[Path, Path],
    postgres_server: Cluster,
    pg_schema: str,
    tmp_path: Path,
    mode: str,
    pool_size: int,
    code: int,
    said: str,
) -> None:
    from postgres_cluster import PGBOUNCER, start_pgbouncer, stop_pgbouncer

    if not Path(PGBOUNCER).exists():
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    url, pid, _folder = start_pgbouncer(postgres_server, mode, pool_size)
    first, second = machines
    marker, release = tmp_path / "started", tmp_path / "release"
    config = waiting_config(first, marker, release)
    assert sm(first, postgres_server.url, "create", str(config)).code == 0  # tables made
    holder = start_installed("--store", url, "provision", "web", cwd=first)
    try:
        wait_for(marker.exists, 30, "the step to start")
        other = sm(second, url, "configure", "web")
        assert other.code == code, other
        assert said in other.err
    finally:
        release.touch()
        holder.communicate(timeout=60)
        stop_pgbouncer(pid)
    assert holder.returncode == 0
