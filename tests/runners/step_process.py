"""A statemgr-like process for test_interruption.py: runs one long command step.

Usage: python step_process.py WORKDIR MODE, MODE one of
  term-raises  a SIGTERM handler raises Stop (as the service's handler does)
  sigint       SIGINT raises KeyboardInterrupt (Python's default handler)
  plain        no handler: used to be SIGKILLed

The step writes leader.pid and child.pid into its build folder, prints "started" on stdout
and "to stderr" on stderr, then waits. With "stubborn" in MODE, the step and its child
ignore SIGTERM, so only the runner's SIGKILL after the grace period stops them.
Prints the trace path first, then "PROPAGATED <exception>" or "RETURNED <result>".
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from statemgr.layout import Layout
from statemgr.model import Environment, Step
from statemgr.runners import StepContext, Trace, run_step

STEP = (
    "echo $$ > leader.pid; sleep 60 & echo $! > child.pid; "
    "echo started; echo to stderr >&2; touch printed; wait"
)


class Stop(Exception):
    """What this process's SIGTERM handler raises."""


def on_sigterm(signal_number: int, _frame: FrameType | None) -> None:
    raise Stop(signal_number)


def main(workdir: str, mode: str) -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if mode.startswith("term-raises"):
        signal.signal(signal.SIGTERM, on_sigterm)
    run = ("trap '' TERM; " if "stubborn" in mode else "") + STEP
    layout = Layout(workdir)
    trace = Trace.open(layout.traces_dir("web"), "provision")
    print(trace.path, flush=True)
    step = Step(name="long", run=run, timeout=60)
    context = StepContext.create(Environment.new("web"), layout, "provision", step, trace.path)
    try:
        result = run_step(context)
    except (Stop, KeyboardInterrupt) as error:
        print(f"PROPAGATED {type(error).__name__}", flush=True)
        return 42
    print(f"RETURNED {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
