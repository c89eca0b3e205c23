"""Command steps: an argv list (no shell) or a plain string run by ``sh -c``.

Output capture. The child's stdout goes straight into the command run's trace file
(opened O_APPEND), its stderr into a side file next to it,
``<trace name>.<phase>-<step>-<id>.stderr`` (mode 0600). Both are plain files: statemgr
drains no pipe, a daemon that inherits them cannot make it hang, and whatever the step
printed is on disk even if statemgr is SIGKILLed mid-step (the side file then stays
next to the trace). When the step ends, the side file is appended to the trace under
``--- stderr ---`` and removed. So, in the trace, a step's stdout comes first and its
stderr after it, not interleaved. The failure message is the last lines of stderr
(of stdout when stderr is empty). stdin is /dev/null.

Processes. Each step is the leader of a new session, hence of its own process group
with no controlling terminal. The runner waits for the step's process to exit (not
for EOF on its output). It then stops whatever is left in the group (SIGTERM, then
SIGKILL after a grace period): a daemon meant to outlive its step must leave the group
itself (``setsid``). A step over its timeout is stopped the same way. Any exception
that arrives while a step runs (KeyboardInterrupt, or whatever the caller's signal
handlers raise) stops the group too, is noted in the trace and propagates unchanged.

Placeholders are replaced in ``run``, ``cwd`` and ``env``. ``cwd`` is relative to the
build folder (an absolute one is used as is) and is created when missing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import attrs

from statemgr.model import ErrorKind, utc_now
from statemgr.runners.base import StepContext, StepResult
from statemgr.runners.output import TICK_SECONDS, FileTap
from statemgr.runners.process import (
    deferred_interruptions,
    group_alive,
    interruption_name,
    stop_group,
)
from statemgr.runners.trace import Trace
from statemgr.runners.variables import shell_script, step_environment, substitute
from statemgr.safe_paths import make_workspace_folder, open_file

SHELL = "/bin/sh"
MESSAGE_LINES = 10
MESSAGE_CHARS = 2000
_TAIL_BYTES = 64 * 1024
_SHELL_NOT_FOUND = 127
_NOT_FOUND_ERRORS = (FileNotFoundError, PermissionError, NotADirectoryError)


@attrs.frozen
class _Outcome:
    """How the step's process ended, before it is judged."""

    returncode: int | None = None
    timed_out: bool = False
    leftovers: bool = False
    start_error: OSError | None = None


def command_line(run: tuple[str, ...] | str | None, variables: dict[str, str]) -> list[str]:
    """The argv to execute: the step's argv with placeholders replaced, or ``sh -c STRING``
    with each placeholder a reference to its variable (see ``step_environment``)."""
    if isinstance(run, str) and run:
        return [SHELL, "-c", shell_script(run)]
    if isinstance(run, tuple | list) and run:
        return [substitute(argument, variables) for argument in run]
    raise ValueError(f"a command step needs a non-empty 'run', got {run!r}")


def working_folder(context: StepContext) -> Path:
    """The step's cwd: build_dir / cwd (an absolute cwd as is), created when missing."""
    cwd = context.step.cwd
    folder = context.build_dir / substitute(cwd, context.variables) if cwd else context.build_dir
    make_workspace_folder(folder)  # 0700 whatever the umask
    return folder


def run_command_step(context: StepContext) -> StepResult:
    """Run a command step to its end; re-raises (after stopping the step) if interrupted."""
    step = context.step
    trace = Trace(context.trace_file)
    started = utc_now()
    argv = command_line(step.run, context.variables)
    _note_start(context, trace, argv)
    try:
        cwd = working_folder(context)
    except OSError as error:
        message = f"cannot create the working folder {error.filename}: {error.strerror}"
        return _finish(context, trace, started, ErrorKind.command_failed, message, None)
    except ValueError as error:  # a NUL byte (a state written before config limits)
        message = f"cannot use the working folder: {error}"
        return _finish(context, trace, started, ErrorKind.command_failed, message, None)
    trace.note(f"cwd: {cwd}")
    trace.note(f"timeout: {step.timeout:g}s")
    trace.note("--- stdout ---")
    stdout_offset = trace.size()
    stderr_file = _stderr_file(context, trace)
    taps = _taps(context, trace, stdout_offset, stderr_file)
    try:
        outcome = _execute(
            argv, cwd, step_environment(context), step.timeout, trace, stderr_file, taps
        )
    except BaseException as error:
        _collect_stderr(trace, stderr_file)
        elapsed = (utc_now() - started).total_seconds()
        trace.note(
            f"step '{step.name}' interrupted by {interruption_name(error)} after "
            f"{elapsed:.1f}s; its processes were stopped"
        )
        raise
    stdout_tail = trace.read_from(stdout_offset, _TAIL_BYTES)
    stderr_tail = _collect_stderr(trace, stderr_file)
    if outcome.leftovers:
        trace.note("processes the step left in its process group were stopped")
    error_kind, message, exit_code = _judge(outcome, argv, step.timeout, stderr_tail or stdout_tail)
    return _finish(context, trace, started, error_kind, message, exit_code)


def _note_start(context: StepContext, trace: Trace, argv: list[str]) -> None:
    trace.note(
        f"step {context.phase.value} {context.index}/{context.total} '{context.step.name}' started"
    )
    trace.note(f"command: {shlex.join(argv)}")


def _stderr_file(context: StepContext, trace: Trace) -> Path:
    name = f"{trace.path.stem}.{context.phase.value}-{context.step.name}-{secrets.token_hex(2)}"
    return trace.path.with_name(f"{name}.stderr")


def _taps(context: StepContext, trace: Trace, offset: int, stderr: Path) -> list[FileTap]:
    """Followers of the step's two output files, when someone wants its lines live."""
    if context.on_output is None:
        return []
    return [
        FileTap(trace.path, offset, "stdout", context.on_output),
        FileTap(stderr, 0, "stderr", context.on_output),
    ]


def _execute(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    trace: Trace,
    stderr: Path,
    taps: list[FileTap],
) -> _Outcome:
    """Start the step, wait for it (at most ``timeout`` seconds), leave nothing of it running."""
    err_flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL
    process: subprocess.Popen[bytes] | None = None
    with (
        open(trace.descriptor(os.O_WRONLY | os.O_APPEND), "wb") as out,
        open(open_file(stderr, err_flags, str(stderr)), "wb") as err,
    ):
        try:
            with deferred_interruptions():
                try:
                    process = subprocess.Popen(
                        argv,
                        cwd=cwd,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        start_new_session=True,
                    )
                except OSError as error:
                    return _Outcome(start_error=error)
                except ValueError as error:  # a NUL byte in argv or env: nothing to exec
                    return _Outcome(start_error=OSError(errno.EINVAL, str(error)))
            outcome = _wait(process, timeout, taps)
            for tap in taps:
                tap.close()
            return outcome
        except BaseException:
            if process is not None:
                with contextlib.suppress(BaseException):
                    stop_group(process)
            raise


def _wait(process: subprocess.Popen[bytes], timeout: float, taps: list[FileTap]) -> _Outcome:
    """Wait for the step's process to exit; Python signal handlers keep running meanwhile."""
    if not _exited_within(process, timeout, taps):
        stop_group(process)
        return _Outcome(returncode=process.returncode, timed_out=True)
    leftovers = group_alive(process.pid)
    if leftovers:
        stop_group(process)
    return _Outcome(returncode=process.returncode, leftovers=leftovers)


def _exited_within(process: subprocess.Popen[bytes], timeout: float, taps: list[FileTap]) -> bool:
    """Whether the process exited (and was reaped) within ``timeout`` seconds.

    A pidfd becomes readable the moment the process exits, so the end of a step is seen at
    once; ``Popen.wait(timeout=)`` polls with sleeps growing to 50 ms. While it waits, the
    taps pass on what the step printed, every ``TICK_SECONDS``. ``select`` is retried after
    a signal, once the Python handler has run (and it may raise: PEP 475).
    """
    tick = TICK_SECONDS if taps else None
    deadline = time.monotonic() + timeout
    try:
        pidfd: int | None = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd on this system: poll
        pidfd = None
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return process.poll() is not None
            wait = remaining if tick is None else min(remaining, tick)
            if _ended(process, pidfd, wait):
                return True
            for tap in taps:
                tap.pump()
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _ended(process: subprocess.Popen[bytes], pidfd: int | None, wait: float) -> bool:
    """Whether the process ended within ``wait`` seconds (then it is reaped)."""
    if pidfd is None:
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return False
        return True
    ready, _, _ = select.select([pidfd], [], [], wait)
    if ready:
        process.wait()
        return True
    return False


def _collect_stderr(trace: Trace, stderr: Path) -> bytes:
    """Append the side file to the trace, remove it, and return its last bytes."""
    try:
        with open(open_file(stderr, os.O_RDONLY, str(stderr)), "rb") as source:
            size = source.seek(0, os.SEEK_END)
            if size == 0:
                tail = b""
            else:
                trace.note("--- stderr ---")
                source.seek(0)
                with open(trace.descriptor(os.O_WRONLY | os.O_APPEND), "ab") as target:
                    shutil.copyfileobj(source, target)
                source.seek(max(0, size - _TAIL_BYTES))
                tail = source.read()
    except FileNotFoundError:
        return b""
    stderr.unlink(missing_ok=True)
    return tail


def _judge(
    outcome: _Outcome, argv: list[str], timeout: float, output_tail: bytes
) -> tuple[ErrorKind | None, str, int | None]:
    """The error kind, message and exit code of an ended step."""
    if outcome.start_error is not None:
        error = outcome.start_error
        reason = error.strerror or str(error)
        kind = ErrorKind.not_found if isinstance(error, _NOT_FOUND_ERRORS) else None
        return kind or ErrorKind.command_failed, f"cannot run {argv[0]!r}: {reason}", None
    if outcome.timed_out:
        message = f"timed out after {timeout:g}s; the step's processes were stopped"
        return ErrorKind.timeout, message, None
    code = outcome.returncode
    assert code is not None
    if code == 0:
        return None, "", 0
    text = last_lines(output_tail)
    if code < 0:
        name = signal.Signals(-code).name
        return ErrorKind.command_failed, _joined(f"killed by {name}", text), 128 - code
    if code == _SHELL_NOT_FOUND and argv[:2] == [SHELL, "-c"]:
        return ErrorKind.not_found, text or "command not found (sh exit code 127)", code
    return ErrorKind.command_failed, text or f"exit code {code}", code


def last_lines(output: bytes, lines: int = MESSAGE_LINES, limit: int = MESSAGE_CHARS) -> str:
    """The last ``lines`` non-empty lines of ``output``, at most ``limit`` characters."""
    text = output.decode("utf-8", errors="replace")
    kept = [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(kept)[-limit:]


def _joined(first: str, rest: str) -> str:
    return f"{first}: {rest}" if rest else first


def _finish(
    context: StepContext,
    trace: Trace,
    started: datetime,
    error_kind: ErrorKind | None,
    message: str,
    exit_code: int | None,
) -> StepResult:
    finished = utc_now()
    result = StepResult(
        step=context.step.name,
        started_at=started,
        finished_at=finished,
        error_kind=error_kind,
        message=message,
        exit_code=exit_code,
    )
    code = "" if exit_code is None else f"exit code {exit_code} "
    verdict = "ok" if error_kind is None else error_kind.value
    name = context.step.name
    why = f": {message.splitlines()[-1]}" if error_kind is not None and message else ""
    trace.note(f"step '{name}' ended: {code}after {result.duration:.3f}s ({verdict}){why}")
    return result
