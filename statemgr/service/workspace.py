"""The facade: a workspace of environments and the commands that change them.

Each state-changing command takes the environment's lock before it reads the state and
holds it until after its last write; SIGINT and SIGTERM are turned into a recorded
interruption while it runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from machines.names import Event, Phase
from statemgr.errors import (
    EnvironmentExists,
    EnvironmentInterrupted,
    Interrupted,
    InvalidVariable,
    MissingVariables,
    StorageError,
)
from statemgr.hints import suggest
from statemgr.model import Environment, EnvironmentName, Operation, Snapshot, new_snapshot
from statemgr.model.commands import WHILE_INTERRUPTED, plan
from statemgr.model.placeholders import KEY_PATTERN
from statemgr.model.snapshot import PHASE_START_EVENTS
from statemgr.safe_paths import make_workspace_folder, remove_tree
from statemgr.service.driver import (
    CommandRun,
    DestroyStepFailed,
    drive,
    record_failure,
    step_failed,
)
from statemgr.service.health import run_checks
from statemgr.service.observer import Observer
from statemgr.service.signals import LockLostSignal, Signalled, guarded
from statemgr.service.status import ReadOnlyWorkspace
from statemgr.service.traces import end_trace
from statemgr.store import Store


def checked_variables(variables: Mapping[str, str] | None) -> dict[str, str]:
    """A command's ``{var.KEY}`` values, each KEY checked (``InvalidVariable``, exit 2)."""
    given = dict(variables or {})
    for key, value in given.items():
        if not KEY_PATTERN.fullmatch(key) or not isinstance(value, str):
            raise InvalidVariable(f"{key}={value}")
    return given


class Workspace(ReadOnlyWorkspace):
    """All environments under one workdir (data/, build/, logs/), and what can be done to them.

    >>> ws = Workspace("/srv/deploy")          # doctest: +SKIP
    >>> ws.create("staging.toml")              # doctest: +SKIP
    >>> ws.deploy("staging")                   # doctest: +SKIP
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str] = ".",
        *,
        store: Store | None = None,
        lock_timeout: float = 0.0,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(workdir, store=store)
        self.lock_timeout = lock_timeout
        self.observer = observer or Observer()

    # --- create and validate ------------------------------------------------------------

    def validate(self, config: str | os.PathLike[str]) -> Environment:
        """The environment a config file declares; ``ConfigError`` lists every problem."""
        from statemgr.service.checks import checked_config

        return checked_config(config)

    def create(self, config: str | os.PathLike[str]) -> Snapshot:
        """A new environment in ``created``; refuses a name that already exists."""
        from statemgr.service.checks import config_warnings, file_digest

        environment = self.validate(config)
        name = str(environment.name)
        for warning in config_warnings(environment):
            self.observer.note(name, f"warning: {warning}")
        if self.store.exists(name):
            raise EnvironmentExists(name)
        with self.store.lock(name, "create", self.lock_timeout, create=True) as held:
            if self.store.exists(name):
                raise EnvironmentExists(name)
            recorded = attrs.evolve(environment, config_hash=file_digest(config))
            snapshot = new_snapshot(recorded, "create", os.getpid(), _host())
            created = held.create(snapshot)
            _make_folder(self.layout.build_dir(name))
        return created

    # --- phases ---------------------------------------------------------------------------

    def provision(self, name: str, **options: Any) -> Snapshot:
        return self.run_phase(name, Phase.provision, **options)

    def configure(self, name: str, **options: Any) -> Snapshot:
        return self.run_phase(name, Phase.configure, **options)

    def release(self, name: str, **options: Any) -> Snapshot:
        return self.run_phase(name, Phase.release, **options)

    def run(self, name: str, **options: Any) -> Snapshot:
        return self.run_phase(name, Phase.run, **options)

    def run_phase(
        self,
        name: str,
        phase: Phase | str,
        *,
        resume: bool = False,
        variables: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """One phase: the -ing state, its steps in order, then the final or failed state.

        In the phase's failed state it runs again (a retry; ``resume=True`` starts at the
        step that failed); ``release`` on released, running or run_failed releases again.
        ``variables`` are the ``{var.KEY}`` values. Raises ``StepFailed`` (with
        ``.snapshot``) when a step failed; the failure is saved.
        """
        return self.execute(name, Phase(phase).value, resume=resume, variables=variables)

    def deploy(
        self, name: str, *, resume: bool = False, variables: Mapping[str, str] | None = None
    ) -> Snapshot:
        """The remaining phases up to ``running``, in one command; from a failed state the
        failed phase is retried first."""
        return self.execute(name, "deploy", resume=resume, variables=variables)

    def redeploy(
        self, name: str, *, resume: bool = False, variables: Mapping[str, str] | None = None
    ) -> Snapshot:
        """A new release: the release phase, then the run phase, in one command."""
        return self.execute(name, "redeploy", resume=resume, variables=variables)

    def check(self, name: str, *, variables: Mapping[str, str] | None = None) -> Snapshot:
        """Run the check steps of a running environment under its lock.

        All pass: nothing is written (no state, no history, no trace). One fails: running
        moves to run_failed with failure phase ``check`` and ``StepFailed`` is raised. Not
        running: ``CommandNotAllowed``. No check steps: the observer is told, nothing runs.
        """
        return self.execute(name, "check", variables=variables)

    def outputs(self, name: str) -> dict[str, str]:
        """What the environment's steps handed on (``{outputs.KEY}``), as last saved."""
        return dict(self.load(name).outputs)

    def destroy(
        self, name: str, *, resume: bool = False, variables: Mapping[str, str] | None = None
    ) -> Snapshot:
        """From any state: the destroy steps, then ``destroyed``. A failed step keeps the state."""
        return self.execute(name, "destroy", resume=resume, variables=variables)

    def execute(
        self,
        name: str,
        command: str,
        *,
        resume: bool = False,
        variables: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Run ``command``'s plan (``statemgr.model.commands.plan``) under the lock."""
        given = checked_variables(variables)
        with self._command(name, command, allow_interrupted=command in WHILE_INTERRUPTED) as run:
            found = plan(command, run.snapshot, resume=resume)
            if found.note is not None:
                self.observer.note(run.name, found.note)
                return run.snapshot
            missing = found.missing_variables(run.snapshot.environment, given)
            if missing:
                raise MissingVariables(run.name, command, missing)
            run.plan = found
            run.variables = given
            run.checking_only = command == "check"
            for phase in found.phases:
                if phase is Phase.destroy:
                    self._destroy(run)
                elif phase is Phase.check:
                    run_checks(run)
                else:
                    self._phase(run, phase)
            return run.snapshot

    def _destroy(self, run: CommandRun) -> None:
        self._stop_leftovers(run)
        try:
            drive(run, Event.destroy, Phase.destroy)
        except DestroyStepFailed as failed:
            with run.guard.deferred():
                record_failure(run, failed.failure)
            self.observer.phase_finished(run.name, Phase.destroy, run.snapshot, False)
            raise step_failed(run.snapshot) from None
        self.observer.phase_finished(run.name, Phase.destroy, run.snapshot, True)

    def recover(self, name: str) -> Snapshot:
        """An interrupted environment moves to its phase's failed state (``interrupted``)."""
        with self._command(name, "recover", allow_interrupted=True) as run:
            plan("recover", run.snapshot)
            operation = run.snapshot.operation
            pid = f"pid {operation.pid}" if operation else "an unknown process"
            self._stop_leftovers(run)
            with run.guard.deferred():
                failure = run.interruption(f"interrupted: {pid} stopped without finishing")
                record_failure(run, failure)
            return run.snapshot

    def update(self, config: str | os.PathLike[str]) -> Snapshot:
        """The stored environment named in ``config`` takes ``config``'s steps and ssh
        settings (after validating it); the state stays, and history records ``update``."""
        from statemgr.service.checks import config_warnings, file_digest

        environment = self.validate(config)
        name = str(environment.name)
        for warning in config_warnings(environment):
            self.observer.note(name, f"warning: {warning}")
        with self._command(name, "update", drifted=False) as run:
            plan("update", run.snapshot)
            adopted = attrs.evolve(
                run.snapshot.environment,
                phases=environment.phases,
                ssh=environment.ssh,
                config_file=environment.config_file,
                config_hash=file_digest(config),
            )
            updated = attrs.evolve(run.snapshot, environment=adopted)
            run.save(updated.recorded("update", "update", run.pid, run.host))
            return run.snapshot

    def purge(self, name: str, *, force: bool = False) -> None:
        """Remove data/NAME and build/NAME of a destroyed environment (any state with force)."""
        checked = EnvironmentName(name)
        with self.store.lock(checked, "purge", self.lock_timeout) as held:
            if not force:
                plan("purge", held.load())
            build = self.layout.build_dir(checked)
            try:
                remove_tree(build)  # a link at build/NAME goes, never what it points to
            except OSError as error:
                raise StorageError(str(build), "remove", error, env=checked) from None
            held.delete()

    # --- internals ------------------------------------------------------------------------

    @contextmanager
    def _command(
        self, name: str, command: str, *, allow_interrupted: bool = False, drifted: bool = True
    ) -> Iterator[CommandRun]:
        checked = EnvironmentName(name)
        # The handlers are in place before the lock is taken and until after it is let go,
        # so a signal at any moment of the command is seen; one after the work is done is
        # too late to stop anything and is ignored.
        with guarded() as guard:
            run: CommandRun | None = None
            try:
                with self.store.lock(checked, command, self.lock_timeout) as held:
                    snapshot = held.load()
                    if snapshot.operation is not None and not allow_interrupted:
                        raise _interrupted(checked, snapshot.operation)
                    if drifted:
                        self._warn_of_drift(snapshot)
                    run = CommandRun(self.layout, held, command, snapshot, self.observer, guard)
                    held.watch(guard.lock_lost)
                    try:
                        yield run
                    except BaseException as error:
                        end_trace(run.trace, error)
                        run.discard_scratch()
                        raise
                    guard.deferring = True
                    end_trace(run.trace, None)
                    run.discard_scratch()
            except Signalled as signalled:  # outside any phase: nothing started, nothing kept
                raise Interrupted(checked, signalled.signal_number, None, None) from None
            except LockLostSignal as lost:  # the step was stopped; nothing can be written
                if isinstance(lost.error, StorageError):
                    _hint_recover(lost.error, run, checked, command)
                raise lost.error from None
            except StorageError as error:
                _hint_recover(error, run, checked, command)
                raise

    def _warn_of_drift(self, snapshot: Snapshot) -> None:
        from statemgr.service.checks import config_drift

        drift = config_drift(snapshot.environment)
        if drift is not None:
            self.observer.note(snapshot.name, f"warning: {drift}")

    def _stop_leftovers(self, run: CommandRun) -> None:
        """Stop what still runs of the interrupted command's step (after a SIGKILL of
        statemgr it runs on), before recording the failure or destroying."""
        operation = run.snapshot.operation
        if operation is None or operation.step is None:
            return
        from statemgr.runners.leftovers import step_processes, stop_processes

        pids = step_processes(self.layout.data_dir(run.name), operation.phase.value, operation.step)
        if not pids:
            return
        listed = " ".join(str(pid) for pid in pids)
        self.observer.note(
            run.name,
            f"stopping what is left of step '{operation.step}' of the interrupted "
            f"'{operation.command}': pid {listed}",
        )
        still = stop_processes(pids)
        if still:
            self.observer.note(run.name, f"still running: pid {' '.join(map(str, still))}")

    def _phase(self, run: CommandRun, phase: Phase) -> Snapshot:
        drive(run, PHASE_START_EVENTS[phase], phase)
        ok = not run.snapshot.state.name.is_failed
        self.observer.phase_finished(run.name, phase, run.snapshot, ok)
        if not ok:
            raise step_failed(run.snapshot)
        return run.snapshot


def _hint_recover(error: StorageError, run: CommandRun | None, name: str, command: str) -> None:
    """A storage failure in the middle of a phase: say how to recover once it is fixed."""
    if run is not None and run.snapshot.operation is not None:
        fix = (error.hint or "fix the storage").removesuffix(", then retry")
        error.hint = (
            f"{fix}, then run '{suggest(f'recover {name}')}': the environment "
            f"shows '{command}' as interrupted"
        )


def _interrupted(name: str, operation: Operation) -> EnvironmentInterrupted:
    return EnvironmentInterrupted(
        name, operation.command, operation.phase.value, operation.step, operation.pid
    )


def _host() -> str:
    import socket

    return socket.gethostname()


def _make_folder(path: Path) -> None:
    """Make ``path`` and its missing parents, each 0700 whatever the umask."""
    try:
        make_workspace_folder(path)
    except OSError as error:
        raise StorageError(str(path), "create", error) from None
