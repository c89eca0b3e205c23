"""Step runners: command steps and Python steps. They return results; they never touch the store.

``run_step(context)`` runs one step and returns its ``StepResult``. A failing step is a
result (``error_kind`` set), not an exception; an exception that arrives while a step
runs (KeyboardInterrupt, or one raised by the caller's signal handlers) stops the step,
is noted in the trace file and propagates unchanged.
"""

from __future__ import annotations

import attrs

from statemgr.runners.base import StepContext, StepResult
from statemgr.runners.command import run_command_step
from statemgr.runners.python import run_python_step
from statemgr.runners.step_outputs import output_file, with_outputs
from statemgr.runners.trace import Trace
from statemgr.runners.variables import (
    missing_placeholders,
    step_environment,
    step_variables,
    substitute,
)

__all__ = [
    "StepContext",
    "StepResult",
    "Trace",
    "run_step",
    "step_environment",
    "step_variables",
    "substitute",
]


def run_step(context: StepContext) -> StepResult:
    """Run the context's step (a command step or a Python step) once and return how it
    ended, with the outputs it handed on (``StepResult.outputs``).

    A step whose placeholders do not all have a value (an output no earlier step wrote)
    fails at its start, with error kind ``error``, without running. Each call gets a new,
    empty ``$STATEMGR_OUTPUT`` file (``statemgr.runners.step_outputs``).
    """
    missing = missing_placeholders(context.step.texts, context.variables)
    if missing:
        return _unresolved(context, missing)
    with output_file(context) as path:
        attempt = attrs.evolve(context, output_file=path)
        if context.step.kind == "python":
            return run_python_step(attempt)
        return with_outputs(attempt, run_command_step(attempt))


def _unresolved(context: StepContext, missing: list[str]) -> StepResult:
    from statemgr.model import ErrorKind, utc_now

    names = ", ".join(missing)
    message = f"step '{context.step.name}' names {names}, which has no value"
    if any(text.startswith("{outputs.") for text in missing):
        message += " (no earlier step wrote that output)"
    trace = Trace(context.trace_file)
    trace.note(f"step {context.phase.value} {context.index}/{context.total} '{context.step.name}'")
    trace.note(f"step '{context.step.name}' not started: {message}")
    now = utc_now()
    return StepResult(context.step.name, now, now, ErrorKind.error, message)
