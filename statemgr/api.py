"""The Python API for tools that embed statemgr.

    from statemgr.api import Workspace, Observer

    ws = Workspace("/srv/deploy", lock_timeout=30)
    ws.create("staging.toml")
    ws.deploy("staging")
    print(ws.status("staging").to_json())

Every failure is a ``statemgr.errors.StatemgrError`` with an ``exit_code`` and a ``kind``.
Runnable examples (executed by the test suite): docs/embedding.md.
"""

from statemgr import errors
from statemgr.model import Environment, Failure, Phase, Snapshot, StateName, Step, Transition
from statemgr.runners.base import StepContext, StepResult
from statemgr.service.observer import Observer
from statemgr.service.status import ListEntry, StatusReport
from statemgr.service.workspace import Workspace

__all__ = [
    "Environment",
    "Failure",
    "ListEntry",
    "Observer",
    "Phase",
    "Snapshot",
    "StateName",
    "StatusReport",
    "Step",
    "StepContext",
    "StepResult",
    "Transition",
    "Workspace",
    "errors",
]
