"""Progress of the phase commands on stderr: each step as it starts and as it ends.

    provision web: 2 steps
    [1/2] provision: make_instance ...
        what the step prints, line by line, as it comes
    [1/2] provision: make_instance ok (0.1s)
    [2/2] provision: ssh_keygen ...
    [2/2] provision: ssh_keygen ok (0.3s)
    provision web: done, now Provisioned (0.4s)

On a terminal (and without -v) the start line is rewritten in place with a live timer and
the end replaces it (a line the step prints goes above the timer, which is redrawn; dimmed
on a colour terminal); elsewhere every event is a plain line. -q silences it all.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence

from machines.names import Phase
from statemgr.cli.console import Console, shown
from statemgr.model import Snapshot, Step
from statemgr.runners.base import StepResult
from statemgr.service.observer import Observer

TICK_SECONDS = 0.1
CLEAR_LINE = "\r\x1b[K"
OUTPUT_INDENT = "    "
_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Progress(Observer):
    """Prints what the service reports. Call ``close()`` when the command ends."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.silent = console.options.quiet
        self.live = console.err_is_terminal and not console.options.verbose
        self._phase_started = 0.0
        self._label: str | None = None
        self._step_started = 0.0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._trace: str | None = None
        self._attempt = ""  # " (attempt 2/4)" while a step is tried again
        self._step_count = 0

    # --- the service's events ---------------------------------------------------------

    def trace_opened(self, env: str, trace_file: str) -> None:
        path = self.console.options.workdir / trace_file
        self._trace = shown(path) if path.is_file() else trace_file

    def phase_started(self, env: str, phase: Phase, steps: Sequence[Step]) -> None:
        self._phase_started = time.monotonic()
        count = f"{len(steps)} step{'s' if len(steps) != 1 else ''}" if steps else "no steps"
        self._step_count = len(steps)
        trace = f"; trace: {self._trace}" if self._trace else ""
        self._trace = None  # once a command: every phase of it writes to the same trace
        self._line(self._paint(f"{phase.value} {env}", "bold") + f": {count}{trace}")

    def step_started(self, env: str, phase: Phase, step: Step, index: int, total: int) -> None:
        self._label = f"[{index}/{total}] {phase.value}: {step.name}{self._attempt}"
        self._step_started = time.monotonic()
        if self.silent:
            return
        if self.live:
            self.console.err_raw(f"{self._label} ...")
            self._start_ticker()
        else:
            self.console.err(f"{self._label} ...")

    def step_output(self, env: str, phase: Phase, step: Step, stream: str, line: str) -> None:
        if self.silent:
            return
        text = self._paint(f"{OUTPUT_INDENT}{printable(line)}", "dim")
        if self.live and self._label is not None:  # the line above the timer, redrawn
            self.console.err_raw(f"{CLEAR_LINE}{text}\n{self._timer_text()}")
        else:
            self.console.err(text)

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
        self._attempt = f" (attempt {attempt + 1}/{attempts})"
        again = self._paint(f"trying again in {delay:g}s", "yellow")
        self._line(f"    {step.name}: attempt {attempt} of {attempts} failed; {again}")

    def step_skipped(self, env: str, phase: Phase, step: Step, index: int, total: int) -> None:
        skipped = self._paint("skipped (done before; --resume)", "dim")
        self._line(f"[{index}/{total}] {phase.value}: {step.name} {skipped}")

    def step_finished(
        self, env: str, phase: Phase, step: Step, index: int, total: int, result: StepResult
    ) -> None:
        self._stop_ticker()
        label = self._label or f"[{index}/{total}] {phase.value}: {step.name}{self._attempt}"
        self._label = None
        self._attempt = ""
        if result.ok:
            outcome = self._paint("ok", "green")
        else:
            kind = result.error_kind.value if result.error_kind else "error"
            code = f", exit code {result.exit_code}" if result.exit_code is not None else ""
            outcome = self._paint(f"FAILED ({kind}{code})", "red")
        self._end(f"{label} {outcome} ({result.duration:.1f}s)")

    def phase_finished(self, env: str, phase: Phase, snapshot: Snapshot, ok: bool) -> None:
        self.close()
        elapsed = time.monotonic() - self._phase_started if self._phase_started else 0.0
        verdict = self._paint("done", "green") if ok else self._paint("failed", "red")
        nothing = ""
        if ok and phase is Phase.destroy and self._step_count == 0:
            nothing = "; it has no destroy steps: nothing was torn down"
        self._line(
            f"{self._paint(f'{phase.value} {env}', 'bold')}: {verdict}, "
            f"now {snapshot.display_name} ({elapsed:.1f}s){nothing}"
        )

    def note(self, env: str, message: str) -> None:
        self.close()
        if message.startswith("warning: "):  # not progress: shown with -q too
            self.console.err(self.console.paint_err("warning: ", "yellow") + message[9:])
        else:
            self.console.info(message)

    # --- the terminal line ------------------------------------------------------------

    def close(self) -> None:
        """Stop the timer and end a half-written line (after an error or a signal)."""
        self._stop_ticker()
        if self._label is not None and self.live and not self.silent:
            self.console.err_raw("\n")
        self._label = None

    def _line(self, text: str) -> None:
        if not self.silent:
            self.console.err(text)

    def _end(self, text: str) -> None:
        if self.silent:
            return
        if self.live:
            self.console.err_raw(f"{CLEAR_LINE}{text}\n")
        else:
            self.console.err(text)

    def _paint(self, text: str, style: str) -> str:
        return self.console.paint_err(text, style)

    def _start_ticker(self) -> None:
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="statemgr-timer", daemon=True)
        self._ticker.start()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None

    def _timer_text(self) -> str:
        return f"{self._label} ... {time.monotonic() - self._step_started:.1f}s"

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self.console.err_raw(f"{CLEAR_LINE}{self._timer_text()}")


def printable(line: str) -> str:
    """A step's line as a terminal shows it safely: what follows the last carriage return,
    without escape sequences or other control characters (tabs become spaces)."""
    line = line.rpartition("\r")[2].replace("\t", "    ")
    line = _ESCAPES.sub("", line)
    return _CONTROLS.sub("", line)
