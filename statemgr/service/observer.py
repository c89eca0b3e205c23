"""Progress of a command, reported to whoever runs it (the CLI, an embedding tool).

Subclass ``Observer`` and override what you need; every method does nothing by default.
Observers must not raise: an exception from an observer is a bug in the observer and stops
the command like any other error.
"""

from __future__ import annotations

from collections.abc import Sequence

from machines.names import Phase
from statemgr.model import Snapshot, Step
from statemgr.runners.base import StepResult


class Observer:
    """Receives progress events of phase commands. The library never prints."""

    def trace_opened(self, env: str, trace_file: str) -> None:
        """The command's trace was created; ``trace_file`` names the run (``statemgr logs``)."""

    def phase_started(self, env: str, phase: Phase, steps: Sequence[Step]) -> None:
        """A phase begins; ``steps`` are the steps it will run, in order."""

    def step_started(self, env: str, phase: Phase, step: Step, index: int, total: int) -> None:
        """Step ``index`` of ``total`` (1-based) begins."""

    def step_output(self, env: str, phase: Phase, step: Step, stream: str, line: str) -> None:
        """A line the running step printed (without its newline); ``stream`` is "stdout" or
        "stderr". Called as the lines come, from the thread that runs the step; the trace
        keeps them all. A step printing faster than lines can be shown gets a line saying
        how much was skipped."""

    def step_retrying(
        self,
        env: str,
        phase: Phase,
        step: Step,
        attempt: int,
        attempts: int,
        result: StepResult,
        delay: float,
    ) -> None:
        """Attempt ``attempt`` of ``attempts`` of the step failed (``result``, also given to
        ``step_finished``); the next attempt starts in ``delay`` seconds, with
        ``step_started`` again (the step's ``retries``)."""

    def step_skipped(self, env: str, phase: Phase, step: Step, index: int, total: int) -> None:
        """Step ``index`` is skipped: it completed in the attempt that ``--resume`` resumes."""

    def step_finished(
        self, env: str, phase: Phase, step: Step, index: int, total: int, result: StepResult
    ) -> None:
        """A step ended: ``result.ok``, ``result.duration``, ``result.error_kind``."""

    def phase_finished(self, env: str, phase: Phase, snapshot: Snapshot, ok: bool) -> None:
        """A phase ended; ``snapshot`` is what was saved."""

    def note(self, env: str, message: str) -> None:
        """Something the user should know that is not progress (e.g. nothing to do)."""
