"""The snapshot of an environment: its state, the operation in flight, its latest transition.

The attrs classes here are the one declaration of what state.json holds; their checks and
read-only methods live in ``statemgr.model.behaviour``, shared with the read-only views
the reading commands build (``statemgr.model.views_generated``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from machines.names import Phase, StateName
from statemgr.model.behaviour import (
    PHASE_FAILED_EVENTS,
    PHASE_GERUNDS,
    PHASE_START_EVENTS,
    PHASE_SUCCESS_EVENTS,
    PHASE_UNDERWAY_STATES,
    SCHEMA_VERSION,
    ErrorKind,
    SnapshotMethods,
    SnapshotSummary,
    StateMethods,
    describe,
    interrupted,
    utc_now,
)
from statemgr.model.environment import Environment

__all__ = [
    "PHASE_FAILED_EVENTS",
    "PHASE_GERUNDS",
    "PHASE_START_EVENTS",
    "PHASE_SUCCESS_EVENTS",
    "PHASE_UNDERWAY_STATES",
    "SCHEMA_VERSION",
    "ErrorKind",
    "Failure",
    "Operation",
    "Snapshot",
    "SnapshotSummary",
    "State",
    "Transition",
    "describe",
    "interrupted",
    "new_snapshot",
    "utc_now",
]


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
class State(StateMethods):
    """A state name and its data: the failed states carry the failure."""

    name: StateName
    failure: Failure | None = None
    # When the environment entered this state (schema 6): what ``status`` shows as "since".
    # An ``update`` or a failed destroy leaves it. None in a snapshot built without it.
    since: datetime | None = None


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
class Snapshot(SnapshotMethods):
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
            state=State(to, failure if to.is_failed else None, since=when),
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


def new_snapshot(
    environment: Environment, command: str, pid: int, host: str, at: datetime | None = None
) -> Snapshot:
    """A fresh snapshot in ``created``; its creation is its latest (and first) transition."""
    when = at or utc_now()
    return Snapshot(
        lineage=uuid.uuid4(),
        revision=0,
        environment=environment,
        state=State(StateName.created, since=when),
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
