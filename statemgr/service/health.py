"""The health checks: ``[[check.steps]]`` of a running environment.

They run in two places, the same way: by ``check`` (alone, under the lock), and after the
run phase's steps (``run``, ``deploy``, ``redeploy``). A failing check is not an event of
its own: it fires ``run_failed`` with failure phase ``check``, so ``running -> run_failed``.

``check`` alone writes nothing while the environment is healthy, so that it can run from
cron every minute without growing the history: no step progress is saved, the trace is
a scratch file that reaches the store only when a check fails, and a check stopped by
SIGINT or SIGTERM says nothing about health and records nothing. After the run phase,
the checks save their progress (each step, as any phase does), and an interrupted check
is recorded like an interrupted run step (``run_failed``, error kind ``interrupted``).
"""

from __future__ import annotations

import attrs

from machines.names import Phase
from statemgr.errors import Interrupted
from statemgr.service.driver import (
    CommandRun,
    record_failure,
    record_interruption,
    step_failed,
)
from statemgr.service.signals import Signalled


def run_checks(run: CommandRun) -> None:
    """Run the check steps; ``StepFailed`` (recorded) when one fails, ``Interrupted`` on a
    signal. No check steps: nothing runs (``check`` alone says so)."""
    if not run.snapshot.environment.phases.check:
        if run.checking_only:
            run.observer.note(
                run.name,
                f"environment '{run.name}' has no check steps ([[check.steps]] in its "
                "config): nothing to check",
            )
        return
    try:
        failure = run.run_steps(Phase.check)
    except Signalled as signalled:
        number = signalled.signal_number
        if run.checking_only:  # nothing was written, and nothing is: "before it changed anything"
            raise Interrupted(run.name, number, None, None) from None
        step = run.snapshot.operation.step if run.snapshot.operation else None
        with run.guard.deferred():
            record_interruption(run, number)
        raise Interrupted(run.name, number, Phase.check.value, step) from None
    if failure is not None:
        with run.guard.deferred():
            record_failure(run, failure)
        run.observer.phase_finished(run.name, Phase.check, run.snapshot, False)
        raise step_failed(run.snapshot)
    if not run.checking_only:
        run.save(attrs.evolve(run.snapshot, operation=None))
    run.observer.phase_finished(run.name, Phase.check, run.snapshot, True)
