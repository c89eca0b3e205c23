"""What the model's classes know and do, without attrs.

The model is declared once, as attrs classes (``statemgr.model.snapshot`` and
``statemgr.model.environment``): the converter reads and writes them, the library hands
them out. Importing attrs, though, costs more than all the rest of ``statemgr status``
together, so the reading commands build read-only views of the same classes instead
(``statemgr.model.views_generated``, generated from the attrs declarations). Both kinds
take from this module, so that they cannot drift apart:

- the constants, enums and helpers the classes use (``SCHEMA_VERSION``, ``ErrorKind``,
  the phase tables, ``describe``, ``interrupted``);
- the checks every instance passes (``__attrs_post_init__``: attrs calls it after its
  ``__init__``, the views call it from theirs);
- the read-only methods and properties (``Snapshot.details``, ``Step.attempts``, ...).

``SnapshotSummary``, what ``list`` shows, is a plain named tuple: nothing reads or writes it
but statemgr itself.

This module is on the read path: standard library and ``machines.names`` only.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from machines.names import Event, Phase, StateName

if TYPE_CHECKING:
    import uuid

    from statemgr.model.environment import Environment, Step
    from statemgr.model.listed import NamePart, StatePart
    from statemgr.model.snapshot import Failure, Operation, State, Transition

SCHEMA_VERSION = 6

DEFAULT_STEP_TIMEOUT = 3600.0
DEFAULT_RETRY_DELAY = 5.0
MAX_RETRIES = 100
DEFAULT_SSH_PORT = 22

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


def current_user() -> str:
    """The name of the user running statemgr: the default SSH user (contract r2)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a bare container)
        import os

        return str(os.getuid())


class ErrorKind(StrEnum):
    """Why a step failed."""

    command_failed = "command_failed"
    timeout = "timeout"
    interrupted = "interrupted"
    not_found = "not_found"
    error = "error"


def interrupted(state: StateName, operation: Operation | None, held: bool) -> bool:
    """A command died without finishing: work in flight, and no live command holds the lock."""
    return not held and (operation is not None or state.is_in_progress)


# --- the checks and methods of each class -------------------------------------------------


class View:
    """The base of every read-only view (``statemgr.model.views_generated``): it compares,
    hashes and shows itself as an attrs class does, and never changes."""

    __slots__ = ()
    _names: tuple[str, ...] = ()  # the fields, in the attrs class's order
    _hashed: tuple[str, ...] = ()  # those attrs hashes

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only: cannot delete {name}")

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._names)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, name) for name in self._hashed)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names)
        return f"{type(self).__name__}({shown})"


class StateMethods:
    """``State``: a failed state carries its failure, and no other state does."""

    __slots__ = ()
    if TYPE_CHECKING:
        name: StateName
        failure: Failure | None

    def __attrs_post_init__(self) -> None:
        if self.name.is_failed and self.failure is None:
            raise ValueError(f"state {self.name.value} needs a failure record")
        if not self.name.is_failed and self.failure is not None:
            raise ValueError(f"state {self.name.value} cannot carry a failure record")


class StepMethods:
    """``Step``: a step that could run and be read back; what the runners ask of it."""

    __slots__ = ()
    if TYPE_CHECKING:
        name: str
        run: tuple[str, ...] | str | None
        call: str | None
        cwd: str | None
        timeout: float
        env: dict[str, str]
        retries: int
        retry_delay: float

    def __attrs_post_init__(self) -> None:
        # The config loader says all of this with key paths; this keeps an API caller (and
        # the state file) from holding a step that could never run or be read back.
        if (self.run is None) == (self.call is None):
            raise ValueError(f"step {self.name!r} needs exactly one of run or call")
        if self.run is not None and not self.run:
            raise ValueError(f"step {self.name!r}: run is empty")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"step {self.name!r}: timeout must be a positive number of seconds")
        if isinstance(self.retries, bool) or not 0 <= self.retries <= MAX_RETRIES:
            raise ValueError(f"step {self.name!r}: retries must be an integer from 0 to 100")
        if not (math.isfinite(self.retry_delay) and self.retry_delay >= 0):
            raise ValueError(f"step {self.name!r}: retry_delay must be 0 or more seconds")

    @property
    def attempts(self) -> int:
        """How many times the step may run: once, and once more for each retry."""
        return self.retries + 1

    @property
    def kind(self) -> str:
        return "python" if self.call is not None else "command"

    @property
    def texts(self) -> list[str]:
        """The strings in which placeholders are expanded: run, cwd and env values."""
        run = [self.run] if isinstance(self.run, str) else list(self.run or ())
        cwd = [self.cwd] if self.cwd is not None else []
        return [*run, *cwd, *self.env.values()]


class PhasesMethods:
    """``Phases``: the steps of a phase by its name."""

    __slots__ = ()

    def steps(self, phase: Phase) -> tuple[Step, ...]:
        result: tuple[Step, ...] = getattr(self, Phase(phase).value)
        return result


class SnapshotMethods:
    """``Snapshot``: what the CLI, the docs and the plans ask of a snapshot."""

    __slots__ = ()
    if TYPE_CHECKING:
        environment: Environment
        state: State
        latest: Transition
        operation: Operation | None
        destroy_failure: Failure | None

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
        """When the environment entered its state: its last transition (not an ``update``
        nor a failed destroy, which leave the state as it was)."""
        return self.state.since or self.latest.at

    @property
    def details(self) -> str:
        return describe(self)

    def allowed_events(self) -> tuple[Event, ...]:
        from machines.table import allowed_events

        return allowed_events(self.state.name)

    def allowed_commands(self) -> tuple[str, ...]:
        """The state-changing commands allowed now, assuming no live command holds the lock."""
        from statemgr.model.commands import allowed_commands

        return allowed_commands(self)  # type: ignore[arg-type]  # a Snapshot or its view


class SnapshotSummary(NamedTuple):
    """What ``list`` shows of a snapshot, read without structuring the whole snapshot."""

    name: str
    state: StateName
    updated_at: datetime
    revision: int
    lineage: uuid.UUID
    operation: Operation | None = None


class ListedMethods:
    """``ListedFields``: the summary of the fields ``list`` reads."""

    __slots__ = ()
    if TYPE_CHECKING:
        lineage: uuid.UUID
        revision: int
        environment: NamePart
        state: StatePart
        updated_at: datetime
        operation: Operation | None

    def summary(self) -> SnapshotSummary:
        return SnapshotSummary(
            name=str(self.environment.name),
            state=self.state.name,
            updated_at=self.updated_at,
            revision=self.revision,
            lineage=self.lineage,
            operation=self.operation,
        )


# --- one line of details ------------------------------------------------------------------

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


def describe(snapshot: SnapshotMethods) -> str:
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
