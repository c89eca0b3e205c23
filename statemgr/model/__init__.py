"""The data statemgr keeps: attrs classes, no I/O.

The names are imported when first used (PEP 562): ``statemgr.model.names`` and the other
attrs-free modules of this package are on the path of the reading commands, which must
not import attrs (see ``statemgr.model.behaviour``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from machines.names import Event, Phase, StateName
    from statemgr.model.behaviour import (
        SCHEMA_VERSION,
        ErrorKind,
        SnapshotSummary,
        utc_now,
    )
    from statemgr.model.environment import Environment, Phases, SshCredentials, Step
    from statemgr.model.names import EnvironmentName
    from statemgr.model.snapshot import (
        Failure,
        Operation,
        Snapshot,
        State,
        Transition,
        new_snapshot,
    )

# Each exported name and the module it comes from.
_WHERE = {
    "Event": "machines.names",
    "Phase": "machines.names",
    "StateName": "machines.names",
    "SCHEMA_VERSION": "statemgr.model.behaviour",
    "ErrorKind": "statemgr.model.behaviour",
    "SnapshotSummary": "statemgr.model.behaviour",
    "utc_now": "statemgr.model.behaviour",
    "EnvironmentName": "statemgr.model.names",
    "Environment": "statemgr.model.environment",
    "Phases": "statemgr.model.environment",
    "SshCredentials": "statemgr.model.environment",
    "Step": "statemgr.model.environment",
    "Failure": "statemgr.model.snapshot",
    "Operation": "statemgr.model.snapshot",
    "Snapshot": "statemgr.model.snapshot",
    "State": "statemgr.model.snapshot",
    "Transition": "statemgr.model.snapshot",
    "new_snapshot": "statemgr.model.snapshot",
}

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


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value  # once: the next access finds it here
    return value
