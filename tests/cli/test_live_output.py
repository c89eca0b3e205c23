"""Live step output: every line a step prints is shown on stderr as it comes, under its
step; the trace keeps it all; a step printing 50 MB costs the command no memory."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from .support import STATEMGR, clean_env, installed, write_config
from .terminal import Terminal

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

PY_STEP = """
import sys

def talk(context):
    print("python says hello")
    print("python complains", file=sys.stderr)
    sys.stdout.write("python without a newline")
"""


def _talking(workdir: Path) -> None:
    (workdir / "pysteps.py").write_text(PY_STEP)
    config = write_config(
        workdir,
        "web",
        provision=[
            {"name": "shell", "run": "echo out-one; echo err-one >&2; printf 'tail-no-newline'"},
            {"name": "python", "call": "pysteps:talk"},
        ],
    )
    assert installed("create", str(config), cwd=workdir).code == 0


def test_each_line_under_its_step_and_all_of_it_in_the_trace(workdir: Path) -> None:
    _talking(workdir)
    result = installed("provision", "web", cwd=workdir)
    assert result.code == 0, result
    lines = result.err.splitlines()
    shell = lines.index("[1/2] provision: shell ...")
    shown = lines[shell + 1 : shell + 4]  # stdout and stderr are two files: each keeps its order
    assert sorted(shown) == ["    err-one", "    out-one", "    tail-no-newline"]
    assert shown.index("    out-one") < shown.index("    tail-no-newline")
    assert lines[shell + 4].startswith("[1/2] provision: shell ok")
    python = lines.index("[2/2] provision: python ...")
    assert lines[python + 1 : python + 4] == [
        "    python says hello",
        "    python complains",
        "    python without a newline",
    ]
    assert result.out.startswith("web: Provisioned")  # stdout is the result's only
    trace = installed("logs", "web", cwd=workdir).out
    for text in ("out-one", "err-one", "tail-no-newline", "python says hello", "complains"):
        assert text in trace


def test_quiet_shows_none_of_it(workdir: Path) -> None:
    _talking(workdir)
    result = installed("provision", "web", "-q", cwd=workdir)
    assert result.code == 0 and result.err == ""
    assert "out-one" in installed("logs", "web", cwd=workdir).out


def test_on_a_terminal_lines_come_while_the_step_runs_above_the_live_timer(
    workdir: Path,
) -> None:
    flag = workdir / "go-on"
    script = f"echo before-wait; while [ ! -e {flag} ]; do sleep 0.05; done; echo after-wait"
    config = write_config(workdir, "web", provision=[{"name": "waits", "run": script}])
    assert installed("create", str(config), cwd=workdir).code == 0
    terminal = Terminal(["provision", "web"], workdir)
    terminal.read_until("before-wait")
    assert terminal.process.poll() is None  # shown while the step still runs
    terminal.read_until("[1/1] provision: waits ... 0.")  # the timer, below the line
    flag.touch()
    assert terminal.finish() == 0
    screen = terminal.screen
    assert "\x1b[2m    before-wait\x1b[0m" in screen  # dimmed, indented
    assert "after-wait" in screen
    assert "before-wait\x1b[0m\r\n[1/1] provision: waits ... " in screen  # redrawn under it
    assert "[1/1] provision: waits \x1b[32mok\x1b[0m" in screen


def _peak_rss_kib(argv: list[str], cwd: Path) -> tuple[int, int, bytes]:
    """Exit code, peak resident memory (KiB) and stderr of one statemgr run."""
    with open(cwd / "stderr.txt", "wb") as err:
        process = subprocess.Popen(
            [str(STATEMGR), *argv], cwd=cwd, env=clean_env(), stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss, (cwd / "stderr.txt").read_bytes()


def test_a_step_printing_50_mb_grows_no_memory(tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    loud = f"yes 'a line of output from a very talkative step' | head -c {size}"
    peaks = {}
    for name, script in (("quiet", "echo just-one-line"), ("loud", loud)):
        folder = tmp_path / name
        folder.mkdir()
        config = write_config(folder, name, provision=[{"name": "talk", "run": script}])
        assert installed("create", str(config), cwd=folder).code == 0
        code, peak, err = _peak_rss_kib(["provision", name], folder)
        assert code == 0, err[-2000:]
        peaks[name] = peak
        if name == "loud":
            assert len(err) < 2 * 1024 * 1024  # what is shown is bounded ...
            assert b"not shown here: all of it is in the trace" in err
            (trace,) = (folder / "data" / name / "traces").glob("*.log")
            assert trace.stat().st_size > size  # ... and the trace has all of it
    assert peaks["loud"] - peaks["quiet"] < 16 * 1024, peaks
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0
