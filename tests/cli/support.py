"""Helpers for the CLI tests: configs, the installed ``statemgr``, the contract's JSON keys."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from statemgr.cli import main

STATEMGR = Path(sys.executable).parent / "statemgr"

# The contract's JSON shapes (contract.md, "JSON output").
STATUS_KEYS = {
    "name", "state", "state_display", "details", "since", "is_failed", "in_progress",
    "interrupted", "lock", "failure", "created_at", "updated_at", "revision",
    "allowed_commands", "next_steps", "outputs",
}  # fmt: skip
FAILURE_KEYS = {
    "phase", "failed_step", "error_kind", "message", "exit_code", "trace_file", "failed_at",
    "completed_steps",
}  # fmt: skip
LOCK_KEYS = {"pid", "host", "command", "since"}
LIST_KEYS = {"name", "state", "updated_at", "in_progress", "interrupted"}
HISTORY_KEYS = {"at", "from", "to", "event", "command", "pid", "host", "revision"}
ERROR_KINDS = {
    "step_failed", "usage", "not_allowed", "locked", "not_found", "unreadable", "storage",
    "interrupted", "internal",
}  # fmt: skip
STATE_CHANGING = ("provision", "configure", "release", "run", "deploy", "check", "destroy",
                  "recover", "purge")  # fmt: skip


def toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_config(folder: Path, name: str, **phases: Sequence[Mapping[str, object]]) -> Path:
    """A TOML config for ``name`` with the given steps per phase, e.g.
    ``provision=[{"name": "hello", "run": ["sh", "-c", "echo hi > out.txt"]}]``."""
    lines = ["[environment]", f'name = "{name}"', ""]
    for phase, steps in phases.items():
        for step in steps:
            lines.append(f"[[{phase}.steps]]")
            lines += [f"{key} = {toml_value(value)}" for key, value in step.items()]
            lines.append("")
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines))
    return path


def ok_step(name: str, text: str = "hi") -> dict[str, object]:
    return {"name": name, "run": ["sh", "-c", f"echo {text} > {name}.txt"]}


def failing_step(name: str, code: int = 3) -> dict[str, object]:
    return {"name": name, "run": ["sh", "-c", f"echo broken-{name} >&2; exit {code}"]}


def full_config(folder: Path, name: str = "web") -> Path:
    """Every phase with one quick step that succeeds."""
    phases = ("provision", "configure", "release", "run", "destroy")
    return write_config(folder, name, **{phase: [ok_step(f"{phase}_it")] for phase in phases})


# --- running the CLI -------------------------------------------------------------------


class Result:
    """What one run of the CLI gave: exit code, stdout, stderr."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


def in_process(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """``main(argv)`` in this process, with its output captured."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without STATEMGR_WORKDIR and NO_COLOR, plus ``extra`` (the other
    STATEMGR_* variables pass: the PostgreSQL tests set their schema that way)."""
    env = {k: v for k, v in os.environ.items() if k not in ("STATEMGR_WORKDIR", "NO_COLOR")}
    env.update(extra)
    return env


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty workspace; the tests run in it and STATEMGR_WORKDIR/NO_COLOR are unset."""
    folder = tmp_path / "ws"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("STATEMGR_WORKDIR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield folder


def installed(
    *argv: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Result:
    """The installed ``statemgr`` console script in a subprocess."""
    done = subprocess.run(
        [str(STATEMGR), *argv],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def start_installed(
    *argv: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """The installed ``statemgr`` started in the background, its output piped."""
    return subprocess.Popen(
        [str(STATEMGR), *argv],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def children_of(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command and alive(int(entry.name)):
            found.append(int(entry.name))
    return found
