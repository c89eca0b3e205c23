"""``store copy``: environments from one store to another (the file store to PostgreSQL,
say), with their state (revision, lineage and times unchanged), history and traces.

Every name is checked first: when any of them exists in the target, nothing is copied.
Each environment is copied while its source lock is held (a held one: exit 4), and its
target lock too, as Terraform's state migration holds both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from statemgr.errors import EnvironmentNotFound, NotAllowed
from statemgr.model import EnvironmentName, Snapshot
from statemgr.service.traces import copy_trace
from statemgr.store import Store

COMMAND = "store copy"


def copy_environments(
    source: Store,
    target: Store,
    names: Sequence[str] = (),
    *,
    lock_timeout: float = 0.0,
    copied: Callable[[Snapshot, int, int], None] | None = None,
) -> list[Snapshot]:
    """Copy ``names`` (all of the source's when empty); the snapshots copied, in order.

    ``copied(snapshot, transitions, traces)`` is called after each environment.
    """
    wanted = [EnvironmentName(name) for name in names] or source.names()
    for name in wanted:
        if not source.exists(name):
            raise EnvironmentNotFound(name)
    present = [name for name in wanted if target.exists(name)]
    if present:
        listed = ", ".join(f"'{name}'" for name in present)
        raise NotAllowed(
            f"nothing was copied: {listed} already exist{'s' if len(present) == 1 else ''} "
            f"in the target store",
            hint="purge them there first, or name only the others",
        )
    done = []
    for name in wanted:
        snapshot, transitions, traces = _copy_one(source, target, name, lock_timeout)
        done.append(snapshot)
        if copied is not None:
            copied(snapshot, transitions, traces)
    return done


def _copy_one(source: Store, target: Store, name: str, timeout: float) -> tuple[Snapshot, int, int]:
    with source.lock(name, COMMAND, timeout) as held:
        snapshot = held.load()
        history = source.history(name)
        runs = source.runs(name)
        with target.lock(name, COMMAND, timeout, create=True) as into:
            into.import_snapshot(snapshot, history)
            for run in runs:
                pieces: list[bytes] = []
                copy_trace(source, name, run.run, pieces.append)
                into.import_trace(run.run, run.command, b"".join(pieces))
    return snapshot, len(history), len(runs)
