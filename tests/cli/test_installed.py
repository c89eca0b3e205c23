"""The installed ``statemgr`` console script in subprocesses: every command, every exit code
of the contract, the JSON shapes, a lock held by a second live command, real signals."""

from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import (
    ERROR_KINDS,
    FAILURE_KEYS,
    HISTORY_KEYS,
    LIST_KEYS,
    LOCK_KEYS,
    STATEMGR,
    STATUS_KEYS,
    Result,
    alive,
    children_of,
    clean_env,
    failing_step,
    full_config,
    installed,
    kill_quietly,
    start_installed,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")


def sm(workdir: Path, *argv: str) -> Result:
    return installed("--workdir", str(workdir), *argv)


def test_every_command_end_to_end(workdir: Path) -> None:
    config = full_config(workdir)
    w = ["--workdir", str(workdir)]
    assert installed(*w, "validate", str(config)).code == 0
    created = installed(*w, "create", str(config), "--json")
    assert created.code == 0 and set(created.json()) == STATUS_KEYS
    for command, state in [
        ("provision", "provisioned"),
        ("configure", "configured"),
        ("release", "released"),
        ("run", "running"),
    ]:
        result = installed(*w, command, "web", "--json")
        assert result.code == 0, result
        assert result.json()["state"] == state
        assert f"[1/1] {command}: {command}_it ok (" in result.err
    status = installed(*w, "status", "web", "--json")
    assert set(status.json()) == STATUS_KEYS and status.json()["state"] == "running"
    listed = installed(*w, "list", "--json").json()
    assert [set(entry) for entry in listed] == [LIST_KEYS]
    history = installed(*w, "history", "web", "--json").json()
    assert all(set(entry) == HISTORY_KEYS for entry in history)
    assert [entry["to"] for entry in history][-1] == "running"
    diagram = installed(*w, "diagram", "--env", "web", "--format", "dot")
    assert diagram.code == 0 and "digraph" in diagram.out
    destroyed = installed(*w, "destroy", "web", "--json")
    assert destroyed.code == 0 and destroyed.json()["state"] == "destroyed"
    assert installed(*w, "purge", "web").code == 0
    assert not (workdir / "data" / "web").exists()


def test_deploy_from_created_and_human_output(workdir: Path) -> None:
    assert installed("create", str(full_config(workdir)), cwd=workdir).code == 0
    result = installed("deploy", "web", cwd=workdir)
    assert result.code == 0, result
    assert result.out.startswith("web: Running")
    for phase in ("provision", "configure", "release", "run"):
        assert f"{phase} web: done" in result.err
    status = installed("status", "web", cwd=workdir)
    assert status.out.startswith("web: Running (running)")


def test_options_before_and_after_and_statemgr_workdir(tmp_path: Path, workdir: Path) -> None:
    assert sm(workdir, "create", str(full_config(workdir))).code == 0
    before = installed("--json", "--workdir", str(workdir), "status", "web", cwd=tmp_path)
    after = installed("status", "web", "--json", "--workdir", str(workdir), cwd=tmp_path)
    assert before.code == after.code == 0
    assert before.json() == after.json()
    from_env = installed(
        "status", "web", "--json", cwd=tmp_path, env=clean_env(STATEMGR_WORKDIR=str(workdir))
    )
    assert from_env.code == 0
    # the same status; only the suggested commands differ: each works where it is pasted
    assert {**from_env.json(), "next_steps": []} == {**before.json(), "next_steps": []}
    assert "statemgr --workdir ws provision web" in before.json()["next_steps"][0]
    assert "statemgr provision web" in from_env.json()["next_steps"][0]


# --- every exit code --------------------------------------------------------------------


def damaged(workdir: Path) -> None:
    installed("--workdir", str(workdir), "create", str(full_config(workdir)))
    (workdir / "data" / "web" / "state.json").write_bytes(b"\x00garbage{")


def failing(workdir: Path) -> None:
    config = write_config(workdir, "web", provision=[failing_step("boom")])
    installed("--workdir", str(workdir), "create", str(config))


def created(workdir: Path) -> None:
    installed("--workdir", str(workdir), "create", str(full_config(workdir)))


def data_is_a_file(workdir: Path) -> None:
    (workdir / "data").write_text("not a folder")
    full_config(workdir)


@pytest.mark.parametrize(
    ("setup", "argv", "code", "kind"),
    [
        (created, ["status", "web"], 0, None),
        (failing, ["provision", "web"], 1, "step_failed"),
        (created, ["status", "Web"], 2, "usage"),
        (created, ["statuz", "web"], 2, "usage"),
        (created, ["configure", "web"], 3, "not_allowed"),
        (created, ["status", "ghost"], 5, "not_found"),
        (damaged, ["status", "web"], 6, "unreadable"),
        (data_is_a_file, ["create", "web.toml"], 7, "storage"),
    ],
    ids=["0", "1", "2-name", "2-args", "3", "5", "6", "7"],
)
def test_exit_codes(workdir: Path, setup, argv: list[str], code: int, kind: str | None) -> None:  # type: ignore[no-untyped-def]
    plain, as_json = workdir / "plain", workdir / "json"
    for folder in (plain, as_json):
        folder.mkdir()
        setup(folder)
    result = installed("--workdir", str(plain), *argv, cwd=plain)
    assert result.code == code, result
    if kind is None:
        return
    lines = result.err.rstrip().splitlines()
    errors = [line for line in lines if line.startswith(("statemgr: error:", "hint:"))]
    assert 1 <= len(errors) <= 2 and errors[0].startswith("statemgr: error:")
    assert "Traceback" not in result.err
    answer = installed("--workdir", str(as_json), "--json", *argv, cwd=as_json)
    assert answer.code == code, answer
    error = answer.json()["error"]
    assert answer.json() == {"error": {"code": code, "kind": kind, "message": error["message"]}}
    assert kind in ERROR_KINDS
    assert next(line for line in answer.err.splitlines() if "error" in line).startswith(
        "statemgr: error:"
    )


def test_damaged_state_file_is_left_byte_for_byte(workdir: Path) -> None:
    damaged(workdir)
    state = workdir / "data" / "web" / "state.json"
    before = state.read_bytes()
    for argv in (["status", "web"], ["provision", "web"], ["destroy", "web"], ["recover", "web"]):
        assert sm(workdir, *argv).code == 6
    assert state.read_bytes() == before
    listed = installed("--workdir", str(workdir), "list", "--json")
    assert listed.code == 0
    assert listed.json()[0]["state"] is None and "state.json" in listed.json()[0]["error"]
    assert set(listed.json()[0]) == LIST_KEYS | {"error"}


def test_internal_error_exits_70_with_the_log_named(workdir: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        import statemgr.cli.reading as reading
        def broken(*args):
            raise ZeroDivisionError("on purpose")
        reading.list_environments = broken
        from statemgr.cli import main
        sys.exit(main(["list"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, check=False
    )
    assert done.returncode == 70
    assert str(workdir / "logs" / "statemgr.log") in done.stderr
    assert "Traceback" not in done.stderr
    assert "ZeroDivisionError: on purpose" in (workdir / "logs" / "statemgr.log").read_text()


# --- a second live command, signals, interruption --------------------------------------


@pytest.fixture
def napping(workdir: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """``statemgr provision nap`` running a ``sleep 30`` step in the background."""
    config = write_config(workdir, "nap", provision=[{"name": "nap", "run": ["sleep", "30"]}])
    assert installed("--workdir", str(workdir), "create", str(config)).code == 0
    process = start_installed("--workdir", str(workdir), "provision", "nap")

    def holding() -> bool:
        result = installed("--workdir", str(workdir), "status", "nap", "--json")
        return result.code == 0 and result.json()["details"].endswith("at step: nap")

    wait_for(holding, what="provision to reach its step")
    children = children_of(process.pid)
    yield workdir, process
    kill_quietly(process.pid)
    process.communicate(timeout=10)
    for child in children:
        kill_quietly(child)


def test_lock_held_by_a_live_command(napping: tuple[Path, subprocess.Popen[str]]) -> None:
    workdir, process = napping
    w = ["--workdir", str(workdir)]
    second = installed(*w, "provision", "nap")
    assert second.code == 4
    assert f"pid {process.pid}" in second.err and "'provision'" in second.err
    assert "locked" in second.err
    locked = installed(*w, "--json", "destroy", "nap")
    assert locked.code == 4 and locked.json()["error"]["kind"] == "locked"
    status = installed(*w, "status", "nap", "--json").json()
    assert status["in_progress"] is True and status["interrupted"] is False
    assert set(status["lock"]) == LOCK_KEYS
    assert status["lock"]["pid"] == process.pid and status["lock"]["command"] == "provision"
    assert status["allowed_commands"] == []
    human = installed(*w, "status", "nap")
    assert f"pid {process.pid}" in human.out
    assert installed(*w, "list", "--json").json()[0]["in_progress"] is True
    assert process.poll() is None  # the readers did not disturb it


@pytest.mark.parametrize(("signal_number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_stop_a_phase_and_are_recorded(
    napping: tuple[Path, subprocess.Popen[str]], signal_number: int, code: int
) -> None:
    workdir, process = napping
    process.send_signal(signal_number)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == code
    assert f"stopped by {signal.Signals(signal_number).name}" in err
    status = installed("--workdir", str(workdir), "status", "nap", "--json").json()
    assert status["state"] == "provision_failed"
    assert set(status["failure"]) == FAILURE_KEYS
    assert status["failure"]["error_kind"] == "interrupted"
    assert status["failure"]["failed_step"] == "nap"


def test_a_killed_command_leaves_an_interrupted_environment_to_recover(
    napping: tuple[Path, subprocess.Popen[str]],
) -> None:
    workdir, process = napping
    w = ["--workdir", str(workdir)]
    process.kill()
    process.communicate(timeout=10)
    status = installed(*w, "status", "nap", "--json").json()
    assert status["interrupted"] is True and status["lock"] is None
    assert status["allowed_commands"] == ["destroy", "recover"]
    assert "interrupted" in installed(*w, "status", "nap").out
    assert installed(*w, "list", "--json").json()[0]["interrupted"] is True
    refused = installed(*w, "provision", "nap")
    assert refused.code == 3 and "statemgr recover nap" in refused.err
    recovered = installed(*w, "recover", "nap", "--json")
    assert recovered.code == 0, recovered
    assert recovered.json()["state"] == "provision_failed"
    assert recovered.json()["failure"]["error_kind"] == "interrupted"
    assert recovered.json()["failure"]["failed_step"] == "nap"
    again = installed(*w, "recover", "nap")
    assert again.code == 3


# --- terminals and NO_COLOR ------------------------------------------------------------


def on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal; its exit code and what it wrote there."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(STATEMGR), *argv], stdout=subprocess.DEVNULL, stderr=follower, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=30), b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("no_color", [False, True])
def test_terminal_progress_and_no_color(workdir: Path, no_color: bool) -> None:
    config = write_config(workdir, "web", provision=[{"name": "nap", "run": ["sleep", "0.3"]}])
    installed("--workdir", str(workdir), "create", str(config))
    env = clean_env(NO_COLOR="1") if no_color else clean_env()
    code, err = on_a_terminal(["--workdir", str(workdir), "provision", "web"], env)
    assert code == 0
    assert "[1/1] provision: nap ... 0." in err and "\r" in err  # the live timer
    assert ("\x1b[32m" in err) is not no_color


def test_plain_lines_when_not_a_terminal(workdir: Path) -> None:
    config = write_config(workdir, "web", provision=[{"name": "nap", "run": ["sleep", "0.2"]}])
    installed("--workdir", str(workdir), "create", str(config))
    result = installed("--workdir", str(workdir), "provision", "web")
    assert "\r" not in result.err and "\x1b" not in result.err
    assert "[1/1] provision: nap ...\n" in result.err


# --- reading commands start light ------------------------------------------------------


@pytest.mark.parametrize("argv", [["status", "web"], ["list"], ["history", "web"]])
def test_reading_commands_do_not_import_heavy_modules(workdir: Path, argv: list[str]) -> None:
    installed("--workdir", str(workdir), "create", str(full_config(workdir)))
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "statemgr.cli", *argv, "--json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
    heavy = [
        module
        for module in imported
        if module.split(".")[0] in {"statemachine", "loguru", "portalocker", "asyncio"}
        or module.startswith(("statemgr.runners", "machines.lifecycle"))
    ]
    assert heavy == []


def test_no_process_left_by_a_phase(workdir: Path) -> None:
    config = write_config(workdir, "web", provision=[{"name": "quick", "run": ["true"]}])
    installed("--workdir", str(workdir), "create", str(config))
    process = start_installed("--workdir", str(workdir), "provision", "web")
    process.communicate(timeout=30)
    assert process.returncode == 0
    assert not alive(process.pid)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_png_diagram_on_stdout_is_binary(workdir: Path) -> None:
    done = subprocess.run(
        [str(STATEMGR), "diagram", "--format", "png"],
        cwd=workdir,
        capture_output=True,
        check=False,
        env=clean_env(),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"\x89PNG\r\n\x1a\n")
