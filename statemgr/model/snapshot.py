"""The snapshot of an environment: its state, the operation in flight, its latest transition."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

import attrs

from machines.names import Event, Phase, StateName
from statemgr.model.environment import Environment

SCHEMA_VERSION = 5

PHASE_START_EVENTS: dict[Phase, Event] = {
    Phase.provision: Event.start_provisioning,
    Phase.configure: Event.start_configuring,
    Phase.release: Event.start_releasing,
    Phase.run: Event.start_running,
}
PHASE_SUCCESS_EVENTS: dict[Phase, Event | None] = {
    Phase.provision: Event.provisioned,
    Phase.configure: Event.configured,
    Phase.release: Event.released,
    Phase.run: None,  # run has no -ing state: running is where it ends
}
PHASE_FAILED_EVENTS: dict[Phase, Event] = {
    Phase.provision: Event.provision_failed,
    Phase.configure: Event.configure_failed,
    Phase.release: Event.release_failed,
    Phase.run: Event.run_failed,
    Phase.check: Event.run_failed,  # a failing check: running -> run_failed
}
# The state a phase's steps run in (run has no -ing state: its steps run in running; the
# checks watch a running environment).
PHASE_UNDERWAY_STATES: dict[Phase, StateName] = {
    Phase.provision: StateName.provisioning,
    Phase.configure: StateName.configuring,
    Phase.release: StateName.releasing,
    Phase.run: StateName.running,
    Phase.check: StateName.running,
}
PHASE_GERUNDS: dict[Phase, str] = {
    Phase.provision: "Provisioning",
    Phase.configure: "Configuring",
    Phase.release: "Releasing",
    Phase.run: "Running",
    Phase.destroy: "Destroying",
    Phase.check: "Checking",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class ErrorKind(StrEnum):
    """Why a step failed."""

    command_failed = "command_failed"
    timeout = "timeout"
    interrupted = "interrupted"
    not_found = "not_found"
    error = "error"


@attrs.frozen
class Failure:
    """Where and why a phase stopped."""

    phase: Phase
    failed_step: str
    error_kind: ErrorKind
    message: str
    started_at: datetime
    failed_at: datetime
    exit_code: int | None = None
    trace_file: str | None = None
    # The steps before the failed one that succeeded since the phase last started from its
    # first step, in order: what ``--resume`` skips.
    completed_steps: tuple[str, ...] = ()


@attrs.frozen
class State:
    """A state name and its data: the failed states carry the failure."""

    name: StateName
    failure: Failure | None = None

    def __attrs_post_init__(self) -> None:
        if self.name.is_failed and self.failure is None:
            raise ValueError(f"state {self.name.value} needs a failure record")
        if not self.name.is_failed and self.failure is not None:
            raise ValueError(f"state {self.name.value} cannot carry a failure record")


@attrs.frozen
class Operation:
    """A command under way; still set after a crash, which is how interruption shows."""

    command: str
    phase: Phase
    pid: int
    host: str
    started_at: datetime
    step: str | None = None
    trace_file: str | None = None
    # The steps of this phase that have succeeded so far (what recover records).
    completed_steps: tuple[str, ...] = ()


@attrs.frozen
class Transition:
    """One line of history. ``event`` is a lifecycle event, ``create`` or ``destroy_failed``.

    ``revision`` is the revision of the state file that recorded it: None until the store
    writes it (the store appends a transition to the history when it sets it).
    """

    at: datetime
    from_state: StateName | None
    to: StateName
    event: str
    command: str
    pid: int
    host: str
    failed_step: str | None = None
    # The command's --var values (not secrets: they are recorded here).
    vars: dict[str, str] = attrs.field(factory=dict, hash=False)
    revision: int | None = None


@attrs.frozen
class Snapshot:
    """Everything statemgr knows about one environment, as stored in state.json.

    ``latest`` is the last transition; the store keeps every transition in the history
    (``Store.history``), so that a save costs the same however long that history is.
    """

    lineage: uuid.UUID
    revision: int
    environment: Environment
    state: State
    created_at: datetime
    updated_at: datetime
    latest: Transition
    operation: Operation | None = None
    destroy_failure: Failure | None = None
    # What the steps handed on ($STATEMGR_OUTPUT, a Python step's dict): {outputs.KEY}.
    outputs: dict[str, str] = attrs.field(factory=dict, hash=False)
    schema_version: int = SCHEMA_VERSION

    # --- what the CLI and the docs ask of a snapshot ----------------------------------

    @property
    def name(self) -> str:
        return str(self.environment.name)

    @property
    def state_name(self) -> StateName:
        return self.state.name

    @property
    def display_name(self) -> str:
        return self.state.name.display

    @property
    def is_failed(self) -> bool:
        return self.state.name.is_failed

    @property
    def is_in_progress(self) -> bool:
        """An -ing state, or any state with an operation in flight."""
        return self.state.name.is_in_progress or self.operation is not None

    @property
    def failure(self) -> Failure | None:
        """The failure of the last command if it failed, else None."""
        return self.destroy_failure or self.state.failure

    @property
    def since(self) -> datetime:
        """The time of the last transition."""
        return self.latest.at

    @property
    def details(self) -> str:
        return describe(self)

    def allowed_events(self) -> tuple[Event, ...]:
        from machines.table import allowed_events

        return allowed_events(self.state.name)

    def allowed_commands(self) -> tuple[str, ...]:
        """The state-changing commands allowed now, assuming no live command holds the lock."""
        from statemgr.model.commands import allowed_commands

        return allowed_commands(self)

    # --- building the next snapshot (pure) ---------------------------------------------

    def transitioned(
        self,
        to: StateName,
        event: str,
        command: str,
        pid: int,
        host: str,
        *,
        failure: Failure | None = None,
        operation: Operation | None = None,
        at: datetime | None = None,
        variables: dict[str, str] | None = None,
    ) -> Snapshot:
        """This snapshot moved to ``to``; the transition is its ``latest``.

        The revision is left as it is: the store sets the next one when it saves, and
        appends the transition to the history then. A destroyed environment has no
        outputs any more.
        """
        when = at or utc_now()
        line = Transition(
            at=when,
            from_state=self.state.name,
            to=to,
            event=event,
            command=command,
            pid=pid,
            host=host,
            failed_step=failure.failed_step if failure else None,
            vars=dict(variables or {}),
        )
        return attrs.evolve(
            self,
            state=State(to, failure if to.is_failed else None),
            operation=operation,
            latest=line,
            destroy_failure=None,
            updated_at=when,
            outputs={} if to is StateName.destroyed else self.outputs,
        )

    def recorded(
        self, event: str, command: str, pid: int, host: str, *, at: datetime | None = None
    ) -> Snapshot:
        """This snapshot with ``event`` in its history and its state unchanged (``update``):
        a history entry whose from and to are the current state, not a transition."""
        when = at or utc_now()
        state = self.state.name
        line = Transition(
            at=when, from_state=state, to=state, event=event, command=command, pid=pid, host=host
        )
        return attrs.evolve(self, latest=line, updated_at=when)


@attrs.frozen
class SnapshotSummary:
    """What ``list`` shows of a snapshot, read without structuring the whole snapshot."""

    name: str
    state: StateName
    updated_at: datetime
    revision: int
    lineage: uuid.UUID
    operation: Operation | None = None


def interrupted(state: StateName, operation: Operation | None, held: bool) -> bool:
    """A command died without finishing: work in flight, and no live command holds the lock."""
    return not held and (operation is not None or state.is_in_progress)


def new_snapshot(
    environment: Environment, command: str, pid: int, host: str, at: datetime | None = None
) -> Snapshot:
    """A fresh snapshot in ``created``; its creation is its latest (and first) transition."""
    when = at or utc_now()
    return Snapshot(
        lineage=uuid.uuid4(),
        revision=0,
        environment=environment,
        state=State(StateName.created),
        created_at=when,
        updated_at=when,
        latest=Transition(
            at=when,
            from_state=None,
            to=StateName.created,
            event="create",
            command=command,
            pid=pid,
            host=host,
        ),
    )


_STEADY_DETAILS: dict[StateName, str] = {
    StateName.created: "Created; nothing provisioned yet",
    StateName.provisioned: "Provisioned; ready to configure",
    StateName.configured: "Configured; ready to release",
    StateName.released: "Released; ready to run",
    StateName.running: "Running",
    StateName.destroyed: "Destroyed",
}
_FAILED_PHASE: dict[StateName, Phase] = {
    StateName.provision_failed: Phase.provision,
    StateName.configure_failed: Phase.configure,
    StateName.release_failed: Phase.release,
    StateName.run_failed: Phase.run,
}
_IN_PROGRESS_PHASE: dict[StateName, Phase] = {
    state: phase for phase, state in PHASE_UNDERWAY_STATES.items() if state.is_in_progress
}


def describe(snapshot: Snapshot) -> str:
    """One line of details, such as "Provisioning failed at step: tofu_apply"."""
    name = snapshot.state.name
    operation = snapshot.operation
    if name in _FAILED_PHASE:
        failure = snapshot.state.failure
        step = failure.failed_step if failure else "?"
        phase = failure.phase if failure else _FAILED_PHASE[name]
        return f"{PHASE_GERUNDS[phase]} failed at step: {step}"
    if operation is not None:
        at = f" at step: {operation.step}" if operation.step else ""
        return f"{PHASE_GERUNDS[operation.phase]} in progress{at}"
    if name in _IN_PROGRESS_PHASE:
        return f"{PHASE_GERUNDS[_IN_PROGRESS_PHASE[name]]} in progress"
    text = _STEADY_DETAILS[name]
    if snapshot.destroy_failure is not None:
        text += f"; destroy failed at step: {snapshot.destroy_failure.failed_step}"
    return text
