"""Step runners: command steps and Python steps. They return results; they never touch the store.

``run_step(context)`` runs one step and returns its ``StepResult``. A failing step is a
result (``error_kind`` set), not an exception; an exception that arrives while a step
runs (KeyboardInterrupt, or one raised by the caller's signal handlers) stops the step,
is noted in the trace file and propagates unchanged.
"""

from __future__ import annotations

from statemgr.runners.base import StepContext, StepResult
from statemgr.runners.command import run_command_step
from statemgr.runners.python import run_python_step
from statemgr.runners.trace import Trace
from statemgr.runners.variables import step_environment, step_variables, substitute

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
    """Run the context's step (a command step or a Python step) and return how it ended."""
    if context.step.kind == "python":
        return run_python_step(context)
    return run_command_step(context)
