"""Signals while a command step runs: the step's whole group stops, the exception goes on.

The out-of-process tests run tests/runners/step_process.py, a small statemgr-like process,
and signal it for real in the middle of its step.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from statemgr.layout import Layout
from statemgr.model import Step
from statemgr.runners import run_step
from statemgr.runners.process import deferred_interruptions, live_members

from .conftest import MakeContext
from .helpers import alive, kill_group, read_pid, wait_for

SCRIPT = Path(__file__).with_name("step_process.py")


class StepProcess:
    """step_process.py running in its own session, with the pids its step wrote."""

    def __init__(self, layout: Layout, mode: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(layout.root), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        build = layout.build_dir("web")
        assert self.process.stdout is not None
        self.trace = Path(self.process.stdout.readline().strip())
        self.leader = read_pid(build / "leader.pid")
        self.child = read_pid(build / "child.pid")
        wait_for((build / "printed").exists)

    def finish(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err

    def step_gone(self) -> bool:
        return not alive(self.leader) and not alive(self.child) and not live_members(self.leader)

    def clean_up(self) -> None:
        kill_group(self.leader)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def step_process(layout: Layout) -> Iterator[list[StepProcess]]:
    started: list[StepProcess] = []
    yield started
    for process in started:
        process.clean_up()


def start(started: list[StepProcess], layout: Layout, mode: str) -> StepProcess:
    process = StepProcess(layout, mode)
    started.append(process)
    return process


def test_sigterm_whose_handler_raises_stops_the_step_group_and_propagates(
    layout: Layout, step_process: list[StepProcess]
) -> None:
    running = start(step_process, layout, "term-raises")
    assert alive(running.leader) and alive(running.child)
    os.kill(running.process.pid, signal.SIGTERM)
    code, out, err = running.finish()
    assert (code, out.splitlines()[-1]) == (42, "PROPAGATED Stop"), err
    assert running.step_gone()
    trace = running.trace.read_text()
    assert "'long' interrupted by Stop" in trace
    assert "started" in trace and "to stderr" in trace
    assert not list(running.trace.parent.glob("*.stderr"))


def test_sigint_to_the_process_group_stops_a_step_that_ignores_sigterm(
    layout: Layout, step_process: list[StepProcess]
) -> None:
    running = start(step_process, layout, "sigint-stubborn")
    began = time.monotonic()
    os.killpg(running.process.pid, signal.SIGINT)  # as Ctrl-C would; the step has its own group
    code, out, err = running.finish()
    assert (code, out.splitlines()[-1]) == (42, "PROPAGATED KeyboardInterrupt"), err
    assert 2 <= time.monotonic() - began < 10  # SIGKILL came after the grace period
    assert running.step_gone()
    assert "'long' interrupted by SIGINT" in running.trace.read_text()


def test_output_is_on_disk_when_the_runner_is_sigkilled_mid_step(
    layout: Layout, step_process: list[StepProcess]
) -> None:
    running = start(step_process, layout, "plain")
    running.process.kill()
    running.process.wait()
    assert "\nstarted\n" in running.trace.read_text()
    [stderr_file] = running.trace.parent.glob(f"{running.trace.stem}.*.stderr")
    assert stderr_file.read_text() == "to stderr\n"


# --- in this process --------------------------------------------------------------------


class Alarm(Exception):
    """Raised by a SIGALRM handler, as any signal handler may raise anything."""


def raise_alarm(_signal_number: int, _frame: FrameType | None) -> None:
    raise Alarm


def test_an_exception_from_any_signal_handler_stops_the_step_and_propagates(
    make_context: MakeContext, layout: Layout
) -> None:
    run = "echo $$ > leader.pid; sleep 30 & echo $! > child.pid; wait"
    context = make_context(Step(name="long", run=run))
    previous = signal.signal(signal.SIGALRM, raise_alarm)
    began = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        with pytest.raises(Alarm):
            run_step(context)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - began < 5
    leader = read_pid(layout.build_dir("web") / "leader.pid")
    assert not alive(leader)
    assert not alive(read_pid(layout.build_dir("web") / "child.pid"))
    assert "'long' interrupted by Alarm" in context.trace_file.read_text()


def test_a_signal_while_a_step_starts_is_held_back_until_the_block_ends() -> None:
    class Stop(Exception):
        pass

    def raise_stop(_signal_number: int, _frame: FrameType | None) -> None:
        raise Stop

    previous = signal.signal(signal.SIGTERM, raise_stop)
    reached_end_of_block = False
    try:
        with pytest.raises(Stop), deferred_interruptions():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler would have run by now
            reached_end_of_block = True
        assert signal.getsignal(signal.SIGTERM) is raise_stop
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert reached_end_of_block
