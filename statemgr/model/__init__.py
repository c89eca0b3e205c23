"""The data statemgr keeps: attrs classes, no I/O."""

from machines.names import Event, Phase, StateName
from statemgr.model.environment import Environment, Phases, SshCredentials, Step
from statemgr.model.names import EnvironmentName
from statemgr.model.snapshot import (
    SCHEMA_VERSION,
    ErrorKind,
    Failure,
    Operation,
    Snapshot,
    SnapshotSummary,
    State,
    Transition,
    new_snapshot,
    utc_now,
)

__all__ = [
    "SCHEMA_VERSION",
    "Environment",
    "EnvironmentName",
    "ErrorKind",
    "Event",
    "Failure",
    "Operation",
    "Phase",
    "Phases",
    "Snapshot",
    "SnapshotSummary",
    "SshCredentials",
    "State",
    "StateName",
    "Step",
    "Transition",
    "new_snapshot",
    "utc_now",
]
