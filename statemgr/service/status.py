"""Reading commands: status, list, history. They never take a lock and never wait.

Kept light on imports: no statechart machinery, no runners, no loguru, no portalocker, and
no attrs (the reports are named tuples; the snapshots they read may be the read-only views
of ``statemgr.model.views_generated``, see ``statemgr.model.behaviour``).
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from machines.names import StateName
from statemgr.errors import StatemgrError
from statemgr.hints import config_argument, suggest
from statemgr.layout import Layout
from statemgr.model.behaviour import SnapshotSummary, interrupted
from statemgr.model.names import EnvironmentName

if TYPE_CHECKING:
    from statemgr.model import Failure, Snapshot, Transition
    from statemgr.store import LockHolder, Store

CONFIRMATIONS = 5  # re-reads of a snapshot that looks interrupted (see ``status``)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class StatusReport(NamedTuple):
    """What ``statemgr status`` shows: the snapshot seen together with its lock."""

    snapshot: Snapshot
    holder: LockHolder | None

    @property
    def name(self) -> str:
        return self.snapshot.name

    @property
    def in_progress(self) -> bool:
        """A live command holds the environment now."""
        return self.holder is not None

    @property
    def interrupted(self) -> bool:
        """A command died without finishing: an operation in flight and no live holder."""
        snapshot = self.snapshot
        return interrupted(snapshot.state.name, snapshot.operation, self.holder is not None)

    @property
    def allowed_commands(self) -> tuple[str, ...]:
        if self.holder is not None:
            return ()
        if self.interrupted:
            return ("destroy", "recover")
        return self.snapshot.allowed_commands()

    @property
    def next_steps(self) -> tuple[str, ...]:
        return next_steps(self)

    def to_json(self) -> dict[str, Any]:
        snapshot = self.snapshot
        return {
            "name": snapshot.name,
            "state": snapshot.state.name.value,
            "state_display": snapshot.display_name,
            "details": snapshot.details,
            "since": _iso(snapshot.since),
            "is_failed": snapshot.is_failed,
            "in_progress": self.in_progress,
            "interrupted": self.interrupted,
            "lock": holder_json(self.holder),
            "failure": failure_json(snapshot.failure),
            "created_at": _iso(snapshot.created_at),
            "updated_at": _iso(snapshot.updated_at),
            "revision": snapshot.revision,
            "allowed_commands": list(self.allowed_commands),
            "next_steps": list(self.next_steps),
            "outputs": dict(snapshot.outputs),
        }


def holder_json(holder: LockHolder | None) -> dict[str, Any] | None:
    if holder is None:
        return None
    return {
        "pid": holder.pid,
        "host": holder.host,
        "command": holder.command,
        "since": _iso(holder.since),
    }


def failure_json(failure: Failure | None) -> dict[str, Any] | None:
    if failure is None:
        return None
    return {
        "phase": failure.phase.value,
        "failed_step": failure.failed_step,
        "error_kind": failure.error_kind.value,
        "message": failure.message,
        "exit_code": failure.exit_code,
        "trace_file": failure.trace_file,
        "failed_at": _iso(failure.failed_at),
        "completed_steps": list(failure.completed_steps),
    }


def transition_json(line: Transition) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "at": _iso(line.at),
        "from": line.from_state.value if line.from_state else None,
        "to": line.to.value,
        "event": line.event,
        "command": line.command,
        "pid": line.pid,
        "host": line.host,
    }
    if line.failed_step is not None:
        entry["failed_step"] = line.failed_step
    if line.vars:
        entry["vars"] = dict(line.vars)
    entry["revision"] = line.revision
    return entry


class ListEntry(NamedTuple):
    """One line of ``statemgr list``."""

    name: str
    state: StateName | None
    updated_at: datetime | None
    in_progress: bool = False
    interrupted: bool = False
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "state": self.state.value if self.state else None,
            "updated_at": _iso(self.updated_at),
            "in_progress": self.in_progress,
            "interrupted": self.interrupted,
        }
        if self.error is not None:
            entry["error"] = self.error
        return entry


class ReadOnlyWorkspace:
    """The reading half of a workspace: status, list, history. Takes no locks."""

    def __init__(
        self, workdir: str | os.PathLike[str] = ".", *, store: Store | None = None
    ) -> None:
        self.layout = Layout(Path(workdir))
        if store is None:
            from statemgr.store.file import FileStore

            store = FileStore(self.layout)
        self.store: Store = store

    def load(self, name: str) -> Snapshot:
        return self.store.load(EnvironmentName(name))

    def status(self, name: str) -> StatusReport:
        """The snapshot and its lock, seen together.

        The snapshot is read first and the lock probed after it. A snapshot with work in
        flight and a free lock is confirmed by reading it again: a command that finished
        meanwhile wrote a new revision before it let go of the lock; one that died did
        not. So a command that just finished is never reported as interrupted.
        """
        checked = EnvironmentName(name)
        snapshot = self.store.load(checked)
        holder = self.store.holder(checked)
        for _ in range(CONFIRMATIONS):
            if not interrupted(snapshot.state.name, snapshot.operation, holder is not None):
                break
            again = self.store.load(checked)
            if (again.revision, again.lineage) == (snapshot.revision, snapshot.lineage):
                break  # nothing written since the lock was seen free: it is interrupted
            snapshot, holder = again, self.store.holder(checked)
        return StatusReport(snapshot, holder)

    def history(self, name: str) -> tuple[Transition, ...]:
        return self.store.history(EnvironmentName(name))

    def list(self) -> list[ListEntry]:
        entries = []
        for listing in self.store.list():
            found = listing.summary
            if found is None:
                entries.append(ListEntry(listing.name, None, None, error=str(listing.error)))
                continue
            held = listing.held
            if held is None:
                held = self.store.holder(listing.name) is not None
            if interrupted(found.state, found.operation, held):
                found, held = self._confirmed(listing.name, found)
            entries.append(
                ListEntry(
                    listing.name,
                    found.state,
                    found.updated_at,
                    in_progress=held,
                    interrupted=interrupted(found.state, found.operation, held),
                )
            )
        return entries

    def _confirmed(self, name: str, found: SnapshotSummary) -> tuple[SnapshotSummary, bool]:
        """``found`` looked interrupted: read it again, as ``status`` does."""
        for _ in range(CONFIRMATIONS):
            try:
                again = self.store.load(name)
            except StatemgrError:
                break  # gone or unreadable now: the next list says so
            if (again.revision, again.lineage) == (found.revision, found.lineage):
                break
            found = SnapshotSummary(
                name=again.name,
                state=again.state.name,
                updated_at=again.updated_at,
                revision=again.revision,
                lineage=again.lineage,
                operation=again.operation,
            )
            held = self.store.holder(name) is not None
            if not interrupted(found.state, found.operation, held):
                return found, held
        return found, False


# --- next steps, written for a person ---------------------------------------------------

_STEADY: dict[StateName, tuple[tuple[str, str], ...]] = {
    StateName.created: (
        ("provision it", "provision {name}"),
        ("or run every phase up to running", "deploy {name}"),
    ),
    StateName.provisioned: (
        ("configure it", "configure {name}"),
        ("or finish the deployment", "deploy {name}"),
    ),
    StateName.configured: (
        ("release the application", "release {name}"),
        ("or finish the deployment", "deploy {name}"),
    ),
    StateName.released: (
        ("start it", "run {name}"),
        ("or finish the deployment", "deploy {name}"),
    ),
    StateName.running: (
        ("it is running; nothing to do", ""),
        ("release a new version", "redeploy {name}"),
        ("when you no longer need it", "destroy {name}"),
    ),
    StateName.destroyed: (
        ("remove its files (data/{name}, build/{name})", "purge {name}"),
        ("then start again with", "create {config}"),
    ),
}


def _step(what: str, command: str = "") -> str:
    """One next step: what to do, and the command to paste for it (``suggest``)."""
    return f"{what}: {suggest(command)}" if command else what


def next_steps(report: StatusReport) -> tuple[str, ...]:
    """What a person can do next, as commands to paste where they are."""
    snapshot = report.snapshot
    name = snapshot.name
    holder = report.holder
    if holder is not None and holder.pid is None:
        return (
            "wait: it is held by an unknown process (one that wrote no holder record)",
            _step("check again with", f"status {name}"),
        )
    if holder is not None:
        return (
            f"wait: '{holder.command}' (pid {holder.pid} on {holder.host}) is working on it",
            _step("follow what its steps print", f"logs {name} --follow"),
        )
    if report.interrupted:
        return (
            _step("a command stopped without finishing; mark it failed", f"recover {name}"),
            _step("then tear it down", f"destroy {name}"),
        )
    failure = snapshot.failure
    if failure is not None:
        return _after_failure(snapshot, failure)
    config = config_argument(snapshot.environment.config_file)
    steady = tuple(
        _step(what.format(name=name), command.format(name=name, config=config))
        for what, command in _STEADY[snapshot.state.name]
    )
    if snapshot.state.name is StateName.running and snapshot.environment.phases.check:
        return (steady[0], _step("check its health", f"check {name}"), *steady[1:])
    return steady


def _after_failure(snapshot: Snapshot, failure: Failure) -> tuple[str, ...]:
    """Read the trace; retry (from the failed step when steps had completed); else tear down."""
    name = snapshot.name
    steps = []
    if failure.trace_file:
        run = shlex.quote(failure.trace_file)
        steps.append(_step("read what the step printed", f"logs {name} --run {run}"))
    state = snapshot.state.name
    command = _RETRY_COMMANDS.get(state, "destroy")
    again = "destroy again" if command == "destroy" else f"retry the {command} phase"
    steps.append(_step(f"fix the cause, then {again}", f"{command} {name}"))
    if failure.completed_steps:
        done = len(failure.completed_steps)
        steps.append(
            _step(
                f"or go on from the failed step '{failure.failed_step}' ({done} completed "
                f"step{'s' if done != 1 else ''} skipped)",
                f"{command} {name} --resume",
            )
        )
    if state in (StateName.release_failed, StateName.run_failed):
        steps.append(_step("or release another version, then run it", f"redeploy {name}"))
    if state.is_failed:
        steps.append(_step("or tear it down", f"destroy {name}"))
    return tuple(steps)


# The command that retries each failed state's phase.
_RETRY_COMMANDS: dict[StateName, str] = {
    StateName.provision_failed: "provision",
    StateName.configure_failed: "configure",
    StateName.release_failed: "release",
    StateName.run_failed: "run",
}
