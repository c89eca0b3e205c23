"""One error hierarchy, mapped one-to-one onto the exit codes of the contract.

Every error keeps its inputs as attributes and builds its message once. Where a caller
already catches a standard exception for the same situation, the error is that exception
too (``EnvironmentLocked`` is a ``TimeoutError``, ``StorageError`` an ``OSError``).

The library raises these; only the CLI turns them into a message and an exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from statemgr.hints import suggest


class StatemgrError(Exception):
    """Base of every error statemgr raises on purpose."""

    exit_code: ClassVar[int] = 70
    kind: ClassVar[str] = "internal"

    def __init__(self, message: str, *, env: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.env = env
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# --- exit 1: a step failed -------------------------------------------------------------


class StepFailed(StatemgrError):
    """A phase stopped at a failing step; the failure is recorded in the state."""

    exit_code = 1
    kind = "step_failed"

    def __init__(
        self,
        env: str,
        phase: str,
        step: str,
        error_kind: str,
        detail: str,
        trace_file: str | None,
        snapshot: object = None,
        step_exit_code: int | None = None,
    ) -> None:
        self.snapshot = snapshot  # the saved snapshot (statemgr.model.Snapshot), if known
        # The step's own exit code (None when it had none: a timeout, a Python step);
        # ``exit_code`` is statemgr's, 1 for every failed step.
        self.step_exit_code = step_exit_code
        self.phase = phase
        self.step = step
        self.error_kind = error_kind
        self.detail = detail
        self.trace_file = trace_file
        message = f"environment '{env}': {phase} failed at step '{step}' ({error_kind})"
        if detail:
            message += f": {detail.strip().splitlines()[-1]}"
        hint = f"see the trace file {trace_file}" if trace_file else None
        hint = (hint + "; " if hint else "") + f"run '{suggest(f'status {env}')}' for next steps"
        super().__init__(message, env=env, hint=hint)


# --- exit 2: bad usage or bad input ----------------------------------------------------


class UsageError(StatemgrError, ValueError):
    """Bad arguments, a bad config file or a bad environment name."""

    exit_code = 2
    kind = "usage"


class InvalidName(UsageError):
    """An environment name that breaks the naming rule."""

    RULE: ClassVar[str] = (
        "a name is 1 to 63 characters of lower-case letters, digits and single dashes, "
        "starting with a letter: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
    )

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"invalid environment name {name!r}: {reason}, but {self.RULE}")


class ConfigError(UsageError):
    """A config file that cannot be used; names the file, the key path and what was expected."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        listed = "; ".join(self.problems)
        super().__init__(f"invalid config {path}: {listed}")


class TraceNotFound(UsageError):
    """``logs --run RUN`` naming no run of the environment."""

    def __init__(self, env: str, run: str) -> None:
        self.run = run
        super().__init__(
            f"environment '{env}' has no traced run {run!r}",
            env=env,
            hint=f"the runs are listed by '{suggest(f'logs {env} --list')}'",
        )


class NotConfirmed(UsageError):
    """The person at the terminal did not type the environment's name: nothing was done."""

    def __init__(self, env: str, command: str, typed: str) -> None:
        self.command = command
        self.typed = typed
        answer = f"got {typed!r}" if typed else "got nothing"
        super().__init__(
            f"environment '{env}': '{command}' not confirmed ({answer}, not {env!r}); "
            "nothing was changed",
            env=env,
            hint="type the environment's name to confirm, or pass --yes",
        )


class NoSuchOutput(UsageError, LookupError):
    """``output NAME KEY`` naming an output the environment does not have."""

    def __init__(self, env: str, key: str, known: Sequence[str]) -> None:
        self.key = key
        self.known = tuple(known)
        listed = ", ".join(self.known) if self.known else "none"
        super().__init__(
            f"environment '{env}' has no output {key!r} (its outputs: {listed})",
            env=env,
            hint=f"a step writes KEY=VALUE lines to $STATEMGR_OUTPUT; "
            f"'{suggest(f'output {env}')}' lists them",
        )


class MissingVariables(UsageError):
    """Steps the command would run name ``{var.KEY}`` values that were not given (--var)."""

    def __init__(self, env: str, command: str, missing: Sequence[str]) -> None:
        self.command = command
        self.missing = tuple(missing)
        listed = "; ".join(self.missing)
        super().__init__(
            f"environment '{env}': '{command}' needs variables that were not given: {listed}",
            env=env,
            hint="nothing was run or written; give each with --var KEY=VALUE",
        )


class InvalidVariable(UsageError):
    """A --var that is not KEY=VALUE with KEY a variable name."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(
            f"invalid --var {text!r}: expected KEY=VALUE with KEY of letters, digits and '_', "
            "not starting with a digit (^[A-Za-z_][A-Za-z0-9_]*$)"
        )


# --- exit 3: not allowed in the current state ------------------------------------------


class NotAllowed(StatemgrError):
    """The command or event is not allowed in the environment's current state."""

    exit_code = 3
    kind = "not_allowed"


class TransitionNotAllowed(NotAllowed):
    """An event the lifecycle does not allow in the current state; the state is unchanged."""

    def __init__(
        self, event: str, state: str, allowed: Sequence[str], env: str | None = None
    ) -> None:
        self.event = event
        self.state = state
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        where = f"environment '{env}': " if env else ""
        super().__init__(
            f"{where}event '{event}' is not allowed in state '{state}' "
            f"(allowed now: {allowed_text})",
            env=env,
        )


class CommandNotAllowed(NotAllowed):
    """A CLI-level command (provision, purge, ...) refused in the current state."""

    def __init__(
        self, env: str, command: str, state: str, allowed: Sequence[str], hint: str | None = None
    ) -> None:
        self.command = command
        self.state = state
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(
            f"environment '{env}': '{command}' is not allowed in state '{state}' "
            f"(allowed now: {allowed_text})",
            env=env,
            hint=hint,
        )


class EnvironmentExists(NotAllowed, FileExistsError):
    """``create`` of a name that already exists."""

    def __init__(self, env: str) -> None:
        super().__init__(
            f"environment '{env}' already exists",
            env=env,
            hint=f"choose another name, or remove it with '{suggest(f'purge {env}')}'",
        )


class EnvironmentInterrupted(NotAllowed):
    """A command died without finishing; phase commands wait for ``recover``."""

    def __init__(self, env: str, command: str, phase: str, step: str | None, pid: int) -> None:
        self.command = command
        self.phase = phase
        self.step = step
        self.pid = pid
        at = f" at step '{step}'" if step else ""
        super().__init__(
            f"environment '{env}' was interrupted: '{command}' (pid {pid}) stopped during "
            f"{phase}{at} without finishing",
            env=env,
            hint=f"run '{suggest(f'recover {env}')}', then '{suggest(f'destroy {env}')}'",
        )


# --- exit 4: locked, or changed under the command --------------------------------------


class EnvironmentLocked(StatemgrError, TimeoutError):
    """Another live command holds the environment's lock."""

    exit_code = 4
    kind = "locked"

    def __init__(
        self,
        env: str,
        pid: int | None,
        host: str | None,
        command: str | None,
        since: str | None,
        waited: float = 0.0,
    ) -> None:
        self.pid = pid
        self.host = host
        self.command = command
        self.since = since
        self.waited = waited
        if pid is None:
            who = "an unknown process (it wrote no holder record: another tool's lock?)"
        else:
            who = f"'{command}' (pid {pid} on {host}, since {since})"
        waited_text = f" after waiting {waited:g}s" if waited else ""
        super().__init__(
            f"environment '{env}' is locked by {who}{waited_text}",
            env=env,
            hint="wait for it to finish, or retry with --lock-timeout SECONDS",
        )


class RevisionConflict(StatemgrError):
    """The state on disk changed since this command read it (no lost update)."""

    exit_code = 4
    kind = "locked"

    def __init__(self, env: str, expected: int, found: int | None) -> None:
        self.expected = expected
        self.found = found
        found_text = "no state" if found is None else f"revision {found}"
        super().__init__(
            f"environment '{env}' changed under this command: expected revision {expected} "
            f"on disk, found {found_text}; nothing was written",
            env=env,
            hint=f"run '{suggest(f'status {env}')}' and retry",
        )


# --- exit 5: no such environment -------------------------------------------------------


class EnvironmentNotFound(StatemgrError, LookupError):
    exit_code = 5
    kind = "not_found"

    def __init__(self, env: str, path: str | None = None) -> None:
        self.path = path
        where = f" (no {path})" if path else ""
        super().__init__(
            f"environment '{env}' does not exist{where}",
            env=env,
            hint=f"run '{suggest('list')}' to see the environments there",
        )


# --- exit 6: the state file cannot be read ---------------------------------------------


class StateFileUnreadable(StatemgrError, ValueError):
    """A state file that is not valid JSON, has the wrong shape or an unknown state."""

    exit_code = 6
    kind = "unreadable"

    def __init__(self, path: str, problems: Sequence[str], env: str | None = None) -> None:
        self.path = path
        self.problems = tuple(problems)
        shown = "; ".join(self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(
            f"state file {path} cannot be read: {shown}{more}",
            env=env,
            hint="the file was left as it is; restore it from a backup or fix it by hand",
        )


class NewerSchema(StateFileUnreadable):
    """A state file written by a newer statemgr."""

    def __init__(self, path: str, found: int, supported: int, env: str | None = None) -> None:
        self.found = found
        self.supported = supported
        StatemgrError.__init__(
            self,
            f"state file {path} has schema_version {found}, newer than {supported}, "
            f"the newest this statemgr reads",
            env=env,
            hint="upgrade statemgr to read it; the file was left as it is",
        )
        self.path = path
        self.problems = (f"schema_version {found} > {supported}",)


# --- exit 7: storage failure -----------------------------------------------------------


class StorageError(StatemgrError, OSError):
    """Disk full, permission denied, read-only file system, or a path that is not usable.

    ``state_kept`` says that a state file write was refused before it replaced anything,
    so the previous state is intact (the store sets it for its writes).
    """

    exit_code = 7
    kind = "storage"

    def __init__(
        self,
        path: str,
        action: str,
        cause: OSError,
        env: str | None = None,
        *,
        state_kept: bool = False,
    ) -> None:
        self.path = path
        self.action = action
        self.cause = cause
        self.errno_value = cause.errno
        self.state_kept = state_kept
        reason = cause.strerror or str(cause)
        kept = "; the previous state was left intact" if state_kept else ""
        StatemgrError.__init__(
            self, f"cannot {action} {path}: {reason}{kept}", env=env, hint=_storage_hint(cause)
        )


class UnsafePath(StorageError):
    """A path statemgr will not use: a symbolic link, a FIFO or device where a regular file
    belongs, a file over its size limit, or a folder owned by someone else or writable by
    group or others. ``problem`` says what is wrong, ``hint`` how to fix it."""

    def __init__(
        self, path: str, problem: str, hint: str, env: str | None = None, *, code: int = 0
    ) -> None:
        import errno

        super().__init__(path, "use", OSError(code or errno.EPERM, problem), env=env)
        self.problem = problem
        self.message = f"refusing to use {path}: {problem}"
        self.hint = hint
        self.args = (self.message,)


def _storage_hint(cause: OSError) -> str:
    import errno

    if cause.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some disk space, then retry"
    if cause.errno in (errno.EACCES, errno.EPERM):
        return "fix the permissions of that path (or run as its owner), then retry"
    if cause.errno == errno.EROFS:
        return "the file system is read-only: remount it read-write or use another --workdir"
    return "check that path (a file where a folder should be, a missing folder), then retry"


class DatabaseError(StorageError):
    """The PostgreSQL store's database cannot be reached, refuses the login, lacks the
    schema, or failed a statement. Names the host and the database, never a password."""

    def __init__(
        self,
        host: str,
        database: str,
        action: str,
        reason: str,
        env: str | None = None,
        *,
        hint: str | None = None,
        state_kept: bool = False,
    ) -> None:
        self.host = host
        self.database = database
        self.path = f"database '{database}' on {host}"
        self.action = action
        self.cause = OSError(reason)
        self.errno_value = None
        self.state_kept = state_kept
        self.reason = reason
        kept = "; the previous state was left intact" if state_kept else ""
        StatemgrError.__init__(
            self,
            f"cannot {action} {self.path}: {reason}{kept}",
            env=env,
            hint=hint or "check that the database is up and reachable, then retry",
        )


class LockLost(DatabaseError):
    """The database session that held the environment's lock ended while a command ran
    (server restart, terminated backend, cut network): the step was stopped."""

    def __init__(self, env: str, host: str, database: str, reason: str) -> None:
        super().__init__(host, database, "keep the lock in", reason, env)
        self.message = (
            f"environment '{env}': the lock was lost: its session with database "
            f"'{database}' on {host} ended ({reason}); the step was stopped and nothing "
            f"more was written"
        )
        self.args = (self.message,)
        self.hint = (
            f"once the database is back (check with '{suggest(f'status {env}')}'), then retry"
        )


# --- 130 / 143: stopped by a signal ----------------------------------------------------


class Interrupted(StatemgrError):
    """The command was stopped by SIGINT or SIGTERM; recorded as ``interrupted``."""

    kind = "interrupted"

    def __init__(self, env: str, signal_number: int, phase: str | None, step: str | None) -> None:
        import signal as _signal

        self.signal_number = signal_number
        self.phase = phase
        self.step = step
        name = _signal.Signals(signal_number).name
        at = f" at step '{step}'" if step else ""
        if phase:
            outcome = f" during {phase}{at}; recorded as interrupted"
        else:
            outcome = " before it changed anything"
        super().__init__(
            f"environment '{env}': stopped by {name}{outcome}",
            env=env,
            hint=f"run '{suggest(f'status {env}')}' for next steps",
        )

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return 128 + self.signal_number


class InternalError(StatemgrError):
    """A bug: something statemgr did not expect."""
