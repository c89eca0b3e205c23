"""A bounded storm (issue 12): 16 processes run random commands on four environments of
one workspace through the installed ``statemgr`` while random ones are SIGKILLed. At the
end every state is readable, every lock is free, and nothing but the contract's files is
left: no temp file, no stray file, no traceback, only the contract's exit codes."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from .support import CONTRACT_EXIT_CODES, STATEMGR, clean_env, installed, no_traceback, write_config

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

NAMES = ("s1", "s2", "s3", "s4")
WORKERS = 16
STORM_SECONDS = 20.0
COMMANDS = (
    ["provision"], ["configure"], ["release"], ["run"], ["deploy"], ["destroy"],
    ["recover"], ["purge", "--force"], ["status"], ["history"],
)  # fmt: skip
QUICK = {"name": "quick", "run": ["true"]}
SLOW = {"name": "slow", "run": ["sleep", "0.05"]}
EXPECTED_IN_DATA = {"state.json", "state.lock", "history.jsonl", "traces"}


def _configs(folder: Path) -> dict[str, Path]:
    phases = {
        phase: [QUICK, SLOW] for phase in ("provision", "configure", "release", "run", "destroy")
    }
    return {name: write_config(folder, name, **phases) for name in NAMES}


class Storm:
    """The workers and the killer, sharing what they saw."""

    def __init__(self, workdir: Path, configs: dict[str, Path], seed: int) -> None:
        self.workdir = workdir
        self.configs = configs
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.running: dict[int, subprocess.Popen[str]] = {}
        self.killed: set[int] = set()
        self.bad: list[str] = []
        self.finished = 0
        self.deadline = time.monotonic() + STORM_SECONDS

    def argv(self, rng: random.Random) -> list[str]:
        name = rng.choice(NAMES)
        if rng.random() < 0.15:
            return ["create", str(self.configs[name])]
        return [*rng.choice(COMMANDS), name]

    def worker(self, number: int) -> None:
        rng = random.Random(number * 7919)
        while time.monotonic() < self.deadline:
            argv = [str(STATEMGR), "--lock-timeout", "0.2", *self.argv(rng)]
            process = subprocess.Popen(
                argv, cwd=self.workdir, env=clean_env(),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            with self.lock:
                self.running[process.pid] = process
            _, err = process.communicate(timeout=120)
            with self.lock:
                del self.running[process.pid]
                killed = process.pid in self.killed
            if killed:
                continue
            with self.lock:
                self.finished += 1
            if process.returncode not in CONTRACT_EXIT_CODES or not no_traceback(err):
                self.bad.append(f"{argv[3:]}: exit {process.returncode}: {err}")

    def killer(self) -> None:
        while time.monotonic() < self.deadline:
            time.sleep(self.random.uniform(0.05, 0.4))
            with self.lock:
                if not self.running:
                    continue
                pid = self.random.choice(list(self.running))
                self.killed.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _settle(workdir: Path, configs: dict[str, Path]) -> None:
    """After the storm: bring each environment to one more write (which removes what a
    killed writer left: temp files), then wait for orphaned steps (sleep 0.05) to end."""
    for name in NAMES:
        result = installed("--json", "status", name, cwd=workdir)
        if result.code == 5:
            assert installed("create", str(configs[name]), cwd=workdir).code == 0
            continue
        assert result.code == 0, result
        if result.json()["interrupted"]:
            assert installed("recover", name, cwd=workdir).code == 0
        assert installed("destroy", name, cwd=workdir).code in (0, 1)


def _side_file_of_a_trace(traces: Path, name: str) -> bool:
    """A step's stderr or outputs file, ``RUN.PHASE-STEP-ID.stderr|output``, that a killed
    command left next to its trace RUN.log (statemgr.runners.command): it belongs there."""
    if not name.endswith((".stderr", ".output")):
        return False
    return (traces / (name.rsplit(".", 2)[0] + ".log")).is_file()


def _stray_files(workdir: Path) -> list[str]:
    stray = []
    for folder in (workdir / "data").iterdir():
        for entry in folder.iterdir():
            if entry.name not in EXPECTED_IN_DATA:
                stray.append(str(entry.relative_to(workdir)))
        traces = folder / "traces"
        if traces.is_dir():
            for entry in traces.iterdir():
                if entry.name.endswith(".log") or _side_file_of_a_trace(traces, entry.name):
                    continue
                stray.append(str(entry.relative_to(workdir)))
    for entry in workdir.iterdir():
        if entry.name not in {"data", "build", "logs", *(f"{n}.toml" for n in NAMES)}:
            stray.append(entry.name)
    return stray


def test_a_storm_of_16_processes_with_random_sigkills_leaves_everything_consistent(
    workdir: Path,
) -> None:
    configs = _configs(workdir)
    storm = Storm(workdir, configs, seed=int(time.time()))
    threads = [threading.Thread(target=storm.worker, args=(n,)) for n in range(WORKERS)]
    threads.append(threading.Thread(target=storm.killer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(STORM_SECONDS + 180)
    assert not storm.bad, "\n".join(storm.bad[:10])
    assert storm.killed and storm.finished >= WORKERS, (len(storm.killed), storm.finished)
    _settle(workdir, configs)
    for name in NAMES:
        status = installed("--json", "status", name, cwd=workdir)
        assert status.code == 0, status
        document = status.json()
        assert document["lock"] is None and document["interrupted"] is False, document
        assert installed("--json", "history", name, cwd=workdir).code == 0
    listed = installed("--json", "list", cwd=workdir).json()
    assert [entry["name"] for entry in listed] == list(NAMES)
    assert all("error" not in entry for entry in listed), listed
    temps = [p for p in (workdir / "data").rglob("*") if p.name.endswith(".tmp")]
    assert temps == []
    assert _stray_files(workdir) == []
    assert not [line for line in (workdir / "logs" / "statemgr.log").read_text().splitlines()
                if "Traceback" in line]  # fmt: skip
