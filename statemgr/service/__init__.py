"""The service layer: load, lock, fire events, run phases, save.

Submodules are imported on first use, so that the reading commands (``status``) do not pay
for the statechart machinery and the runners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from statemgr.service.observer import Observer
    from statemgr.service.status import ListEntry, ReadOnlyWorkspace, StatusReport
    from statemgr.service.workspace import Workspace

__all__ = ["ListEntry", "Observer", "ReadOnlyWorkspace", "StatusReport", "Workspace"]

_HOMES = {
    "Observer": "statemgr.service.observer",
    "ListEntry": "statemgr.service.status",
    "ReadOnlyWorkspace": "statemgr.service.status",
    "StatusReport": "statemgr.service.status",
    "Workspace": "statemgr.service.workspace",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
