"""One state-changing command at work: the statechart's hooks persist every transition and
run the phase's steps.

Order matters (see library-notes): ``on_enter_state`` saves the snapshot first, so the file
always shows the state the machine is in; the long-running steps run in ``after_transition``
(for the start events) and in ``before_destroy``, where an exception cannot silently rewind
the machine while the file says otherwise.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import attrs

from machines.lifecycle import DeploymentLifecycle, build, current_state, fire
from machines.names import Event, Phase, StateName
from statemgr.errors import Interrupted, StepFailed, StorageError
from statemgr.layout import Layout
from statemgr.log import logger
from statemgr.model import ErrorKind, Failure, Operation, Snapshot, Step, utc_now
from statemgr.model.commands import Plan
from statemgr.model.outputs import merged
from statemgr.model.snapshot import (
    PHASE_FAILED_EVENTS,
    PHASE_START_EVENTS,
    PHASE_SUCCESS_EVENTS,
    PHASE_UNDERWAY_STATES,
)
from statemgr.runners import StepContext, StepResult, Trace, run_step
from statemgr.service.attempts import run_attempts
from statemgr.service.observer import Observer
from statemgr.service.signals import SignalGuard, Signalled
from statemgr.store import EnvironmentLock

START_PHASES: dict[str, Phase] = {event.value: phase for phase, event in PHASE_START_EVENTS.items()}
NO_STEP = "(none)"


class DestroyStepFailed(Exception):
    """A destroy step failed: raised in ``before_destroy`` so that the state stays."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.failed_step)
        self.failure = failure


@attrs.define
class CommandRun:
    """The context of one state-changing command, holding the environment's lock."""

    layout: Layout
    lock: EnvironmentLock  # held: every save goes through it
    command: str
    snapshot: Snapshot
    observer: Observer
    guard: SignalGuard
    pid: int = attrs.field(factory=os.getpid)
    host: str = attrs.field(factory=socket.gethostname)
    trace: Trace | None = None
    trace_name: str | None = None  # the run's name, as failure.trace_file records it
    # What the command runs (skips, for --resume) and its --var values.
    plan: Plan | None = None
    variables: dict[str, str] = attrs.field(factory=dict)
    # The steps of the phase under way that have succeeded (with those --resume skipped).
    completed: tuple[str, ...] = ()
    # The `check` command: no step progress is saved, and its trace is a scratch file that
    # goes to the store only when a check fails (a healthy check writes nothing).
    checking_only: bool = False
    scratch: Path | None = None

    @property
    def name(self) -> str:
        return self.snapshot.name

    # --- persistence --------------------------------------------------------------------

    def save(self, snapshot: Snapshot) -> Snapshot:
        # A signal in the middle of a save would leave the file written but this run
        # unaware of it; it is raised once the save (and run.snapshot) is complete.
        with self.guard.atomic():
            self.snapshot = self.lock.save(snapshot)
        return self.snapshot

    def save_transition(
        self, target: StateName, event: str, failure: Failure | None, operation: Operation | None
    ) -> None:
        source = self.snapshot.state.name
        underway = operation or self.snapshot.operation
        phase = underway.phase.value if underway else (failure.phase.value if failure else None)
        self.save(
            self.snapshot.transitioned(
                target,
                event,
                self.command,
                self.pid,
                self.host,
                failure=failure,
                operation=operation,
                variables=self.variables,
            )
        )
        logger.bind(env=self.name, phase=phase).info(
            "transition {} -> {} on {} (command {}, revision {})",
            source.value,
            target.value,
            event,
            self.command,
            self.snapshot.revision,
        )

    def save_step(self, phase: Phase, step: str) -> None:
        """Record which step is about to run, so that a crash shows where it stopped."""
        operation = self.snapshot.operation
        if operation is None or operation.phase is not phase:
            operation = self.new_operation(phase)
        underway = attrs.evolve(operation, step=step, completed_steps=self.completed)
        self.save(attrs.evolve(self.snapshot, operation=underway))

    def new_operation(self, phase: Phase) -> Operation:
        trace = self.trace_name if self.trace else None
        return Operation(self.command, phase, self.pid, self.host, utc_now(), trace_file=trace)

    # --- running steps ------------------------------------------------------------------

    def open_trace(self) -> Trace:
        if self.trace is None and self.checking_only:
            self.scratch = Path(tempfile.mkdtemp(prefix="statemgr-check-"))
            self.trace = Trace.started(self.scratch / "check.log", self.command)
        elif self.trace is None:
            opened = self.lock.open_trace(self.command)
            self.trace = Trace.started(opened.path, self.command)
            self.trace_name = opened.name
            self.observer.trace_opened(self.name, opened.name)
        return self.trace

    def keep_trace(self) -> str:
        """The run's name in the store; a scratch trace is copied there first."""
        trace = self.open_trace()
        if self.trace_name is None:
            opened = self.lock.open_trace(self.command)
            with open(trace.descriptor(os.O_RDONLY), "rb") as source:
                Trace(opened.path).write(source.read())
            self.trace, self.trace_name = Trace(opened.path), opened.name
            self.discard_scratch()
            self.observer.trace_opened(self.name, opened.name)
        return self.trace_name

    def discard_scratch(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def run_steps(self, phase: Phase) -> Failure | None:
        """Run the phase's steps in order; the first failure stops it and is returned.

        The outputs a step hands on join the snapshot (saved by the next save: the next
        step's, or the phase's end); a check step's reach only the later checks.
        """
        steps = self.snapshot.environment.phases.steps(phase)
        names = {step.name for step in steps}
        skip = self.plan.skipped(phase) if self.plan else ()
        if self.plan and self.plan.skips_whole(phase):
            skip = tuple(names)
        self.completed = tuple(name for name in skip if name in names)
        trace = self.open_trace()
        trace.note(f"phase {phase.value}: {len(steps)} step(s)")
        self.observer.phase_started(self.name, phase, steps)
        outputs = dict(self.snapshot.outputs)
        for index, step in enumerate(steps, start=1):
            if step.name in self.completed:
                trace.note(f"step {step.name}: skipped (it completed before; --resume)")
                self.observer.step_skipped(self.name, phase, step, index, len(steps))
                continue
            if not self.checking_only:
                self.save_step(phase, step.name)
            result = run_attempts(self, phase, step, (index, len(steps)), outputs)
            if not result.ok:
                trace.note(f"phase {phase.value}: failed at step {step.name}")
                return self.failure_from(phase, result)
            outputs = merged(outputs, result.outputs)
            if phase is not Phase.check:
                self.snapshot = attrs.evolve(self.snapshot, outputs=outputs)
            self.completed = (*self.completed, step.name)
        trace.note(f"phase {phase.value}: done")
        return None

    def run_one(
        self, phase: Phase, step: Step, index: int, total: int, variables: dict[str, str]
    ) -> StepResult:
        """One attempt of ``step``, shown to the observer."""
        context = StepContext(
            environment=self.snapshot.environment,
            phase=phase,
            step=step,
            workdir=self.layout.root,
            build_dir=self.layout.build_dir(self.name),
            data_dir=self.layout.data_dir(self.name),
            trace_file=self.open_trace().path,
            variables=variables,
            index=index,
            total=total,
            on_output=functools.partial(self.observer.step_output, self.name, phase, step),
        )
        self.observer.step_started(self.name, phase, step, index, total)
        logger.bind(env=self.name, phase=phase.value).debug("step {} started", step.name)
        try:
            result = run_step(context)
        except OSError as error:  # writing the trace failed: a storage problem, not the step's
            where = self.layout.relative(context.trace_file)
            raise StorageError(where, "write the trace", error, env=self.name) from None
        logger.bind(env=self.name, phase=phase.value).debug(
            "step {} finished: {} in {:.3f}s", step.name, result.error_kind or "ok", result.duration
        )
        self.observer.step_finished(self.name, phase, step, index, total, result)
        return result

    def failure_from(self, phase: Phase, result: StepResult) -> Failure:
        return Failure(
            phase=phase,
            failed_step=result.step,
            error_kind=result.error_kind or ErrorKind.error,
            message=result.message,
            started_at=result.started_at,
            failed_at=result.finished_at,
            exit_code=result.exit_code,
            trace_file=self._trace_name(),
            completed_steps=self.completed,
        )

    def _trace_name(self) -> str:
        return self.keep_trace()

    def interruption(self, signal_name: str) -> Failure:
        """The failure record of the operation in flight, stopped by ``signal_name``."""
        operation = self.snapshot.operation
        phase = operation.phase if operation else _phase_of_state(self.snapshot.state.name)
        if self.trace is not None:  # interrupted in this process: its own trace
            trace: str | None = self.trace_name
        else:  # recover: the trace of the command that died
            trace = operation.trace_file if operation else None
        return Failure(
            phase=phase,
            failed_step=(operation.step if operation else None) or NO_STEP,
            error_kind=ErrorKind.interrupted,
            message=signal_name,
            started_at=operation.started_at if operation else self.snapshot.updated_at,
            failed_at=utc_now(),
            trace_file=trace,
            completed_steps=operation.completed_steps if operation else (),
        )


class LifecycleHooks:
    """Listener on the statechart: persists transitions, runs steps on the start events."""

    def __init__(self, run: CommandRun, machine: DeploymentLifecycle) -> None:
        self.run = run
        self.machine = machine

    def on_enter_state(self, event: str, target: Any, failure: Failure | None = None) -> None:
        state = StateName(target.id)
        phase = START_PHASES.get(event)
        operation = self.run.new_operation(phase) if phase is not None else None
        self.run.save_transition(state, event, failure, operation)

    def after_transition(self, event: str) -> None:
        phase = START_PHASES.get(event)
        if phase is None:
            return
        failure = self.run.run_steps(phase)
        if failure is not None:
            self.machine.send(PHASE_FAILED_EVENTS[phase].value, failure=failure)
            return
        success = PHASE_SUCCESS_EVENTS[phase]
        if success is not None:
            self.machine.send(success.value)
        else:  # run: stays in running; the operation is over
            self.run.save(attrs.evolve(self.run.snapshot, operation=None))

    def before_destroy(self) -> None:
        failure = self.run.run_steps(Phase.destroy)
        if failure is not None:
            raise DestroyStepFailed(failure)


def attach(run: CommandRun) -> DeploymentLifecycle:
    """A lifecycle machine in the run's current state, with the hooks attached."""
    machine = build(run.snapshot.state.name)
    machine.add_listener(LifecycleHooks(run, machine))  # type: ignore[no-untyped-call]
    return machine


def drive(run: CommandRun, event: Event, phase: Phase) -> Snapshot:
    """Fire ``event`` (a phase's start event, or destroy) and let the hooks do the work.

    On SIGINT/SIGTERM the step's processes are already stopped by the runner; here the
    phase is recorded as interrupted and ``Interrupted`` is raised.
    """
    run.open_trace()  # before the first save: a trace that cannot be made changes nothing
    try:
        fire(attach(run), event)
    except Signalled as signalled:
        with run.guard.deferred():
            record_interruption(run, signalled.signal_number)
        step = run.snapshot.latest.failed_step if phase is not Phase.destroy else None
        raise Interrupted(run.name, signalled.signal_number, phase.value, step) from None
    return run.snapshot


def record_interruption(run: CommandRun, signal_number: int) -> Snapshot:
    """Move the operation in flight to its phase's failed state, error kind interrupted."""
    import signal

    failure = run.interruption(f"stopped by {signal.Signals(signal_number).name}")
    return record_failure(run, failure)


def record_failure(run: CommandRun, failure: Failure) -> Snapshot:
    """The failed state of ``failure.phase``; for destroy, the state stays and it is noted."""
    if failure.phase is Phase.destroy:
        return record_destroy_failure(run, failure)
    machine = attach(run)
    if current_state(machine) is not PHASE_UNDERWAY_STATES[failure.phase]:
        # The start transition never reached the file: nothing ran, nothing to record.
        run.save(attrs.evolve(run.snapshot, operation=None))
        return run.snapshot
    fire(machine, PHASE_FAILED_EVENTS[failure.phase], failure=failure)
    return run.snapshot


def record_destroy_failure(run: CommandRun, failure: Failure) -> Snapshot:
    """A failed destroy: the state stays; the failure goes into the snapshot and its history."""
    state = run.snapshot.state
    snapshot = run.snapshot.transitioned(
        state.name,
        "destroy_failed",
        run.command,
        run.pid,
        run.host,
        failure=failure,
        variables=run.variables,
    )
    run.save(attrs.evolve(snapshot, state=state, destroy_failure=failure))
    logger.bind(env=run.name, phase="destroy").info(
        "destroy failed at step {} ({}); state stays {}",
        failure.failed_step,
        failure.error_kind.value,
        state.name.value,
    )
    return run.snapshot


def _phase_of_state(state: StateName) -> Phase:
    """The phase whose steps run in ``state``; destroy for any other state."""
    for phase, underway in PHASE_UNDERWAY_STATES.items():
        if underway is state:
            return phase
    return Phase.destroy


def step_failed(snapshot: Snapshot) -> StepFailed:
    """The error of a command whose step failed; the failure is in ``snapshot``."""
    failure = snapshot.failure
    assert failure is not None  # a failed state or a failed destroy carries one
    return StepFailed(
        snapshot.name,
        failure.phase.value,
        failure.failed_step,
        failure.error_kind.value,
        failure.message,
        failure.trace_file,
        snapshot=snapshot,
        step_exit_code=failure.exit_code,
    )
