"""The attempts of one step: ``retries = N`` tries a failed step again, up to N times.

Each attempt runs as a step does (``CommandRun.run_one``: shown to the observer, written
to the trace, with a new ``$STATEMGR_OUTPUT`` file). Between two attempts the observer
hears ``step_retrying`` and the trace says which attempt failed and when the next one
starts; the pause is an ordinary sleep that SIGINT and SIGTERM cut short (the command is
then recorded as interrupted at this step). A timeout is a failed attempt like any other.
The step's result is its last attempt's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from machines.names import Phase
from statemgr.model import ErrorKind, Step
from statemgr.model.outputs import OutputProblem, merged
from statemgr.runners import StepResult, step_variables

if TYPE_CHECKING:
    from statemgr.service.driver import CommandRun


def run_attempts(
    run: CommandRun,
    phase: Phase,
    step: Step,
    position: tuple[int, int],
    outputs: Mapping[str, str],
) -> StepResult:
    """Run ``step`` (number ``position[0]`` of ``position[1]``) until an attempt succeeds
    or none is left; ``outputs``: what the earlier steps handed on."""
    index, total = position
    environment = run.snapshot.environment
    variables = step_variables(environment, run.layout, run.variables, outputs)
    attempts = step.attempts
    attempt = 1
    while True:
        result = _handed_on(run.run_one(phase, step, index, total, variables), outputs)
        if result.ok or attempt == attempts:
            return result
        run.observer.step_retrying(
            run.name, phase, step, attempt, attempts, result, step.retry_delay
        )
        kind = result.error_kind.value if result.error_kind else "error"
        run.open_trace().note(
            f"step '{step.name}': attempt {attempt} of {attempts} failed ({kind}); "
            f"attempt {attempt + 1} in {step.retry_delay:g}s"
        )
        time.sleep(step.retry_delay)
        attempt += 1


def _handed_on(result: StepResult, outputs: Mapping[str, str]) -> StepResult:
    """``result``, failed when its outputs would take the environment over its limit."""
    if not result.ok or not result.outputs:
        return result
    try:
        merged(outputs, result.outputs)
    except OutputProblem as problem:
        message = f"bad outputs: {problem}"
        return attrs.evolve(result, error_kind=ErrorKind.error, message=message, outputs={})
    return result
