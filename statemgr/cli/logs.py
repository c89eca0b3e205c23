"""The tool's log, logs/statemgr.log under the workdir: loguru, enabled by the CLI only.

State-changing commands open a logging session: the library's logger is enabled, loguru's
default sink removed, a file sink added at INFO (one line per transition, with the
environment and phase the library binds), and a stderr sink at DEBUG with -v. The
session removes its sinks when the command ends, so running ``main()`` in-process leaves
no file open.

The file sink is a ``LogFile`` (``statemgr.cli.logfile``): shared safely by concurrent
commands, rotated at 10 MB, and never able to fail a command: a log that cannot be
written costs one warning line on stderr and changes no exit code and no output.

``log_traceback`` writes an internal error's traceback through the same ``LogFile``
without loguru, so that a reading command that fails unexpectedly does not import it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statemgr.cli.console import Options
from statemgr.cli.logfile import LogFile
from statemgr.errors import StatemgrError, StepFailed

if TYPE_CHECKING:
    from loguru import Record

LOG_FILE = Path("logs") / "statemgr.log"
# Commands that may run every minute (from cron): no "started"/"done" lines; their
# transitions and errors are logged as any command's.
QUIET_COMMANDS = frozenset({"check"})
FILE_FORMAT = (
    "{time:YYYY-MM-DDTHH:mm:ss.SSSSSSZ} | {level: <7} | pid {process} | {extra[where]} | {message}"
)
STDERR_FORMAT = "<dim>{time:HH:mm:ss.SSS}</dim> <level>{level: <7}</level> {extra[where]} {message}"


def log_path(workdir: Path) -> Path:
    return workdir / LOG_FILE


def _where(record: Record) -> None:
    """``env/phase`` from what the library bound, ``-`` where nothing was."""
    extra = record["extra"]
    env = extra.get("env") or "-"
    phase = extra.get("phase")
    extra["where"] = f"{env}/{phase}" if phase else str(env)


def _ignore(_text: str) -> None:
    pass


@contextmanager
def logging_session(
    options: Options, command: str, warn: Callable[[str], None] = _ignore
) -> Iterator[None]:
    """Log the library's transitions (and, with -v, its debug lines) while the command runs.

    ``warn`` gets the one line that says the log cannot be written, if it cannot.
    """
    from loguru import logger

    log_file = LogFile(log_path(options.workdir), warn, shown=str(LOG_FILE))
    logger.remove()
    logger.configure(patcher=_where)
    sinks = [_file_sink(logger, log_file)]
    if options.verbose:
        import sys

        sinks.append(logger.add(sys.stderr, level="DEBUG", format=STDERR_FORMAT, colorize=None))
    logger.enable("statemgr")
    routed = _route_standard_logging(logger)
    session_log = logger.bind(env=command.partition(" ")[2] or None)
    quiet = command.partition(" ")[0] in QUIET_COMMANDS
    if not quiet:
        session_log.info("statemgr {} started in {}", command, options.workdir)
    try:
        yield
    except StatemgrError as error:
        session_log.error(
            "statemgr {} failed (exit {}): {}", command, error.exit_code, _logged(error)
        )
        raise
    except Exception:
        session_log.error("statemgr {} failed with an internal error", command)
        raise
    else:
        if not quiet:
            session_log.info("statemgr {} done", command)
    finally:
        logger.disable("statemgr")
        routed()
        for sink in sinks:
            logger.remove(sink)
        log_file.close()


def _logged(error: StatemgrError) -> str:
    """The error for the log: a failed step's output stays in its trace (it may hold
    secrets), the log names the step and the trace."""
    if isinstance(error, StepFailed):
        trace = f"; trace {error.trace_file}" if error.trace_file else ""
        return f"{error.phase} failed at step '{error.step}' ({error.error_kind}){trace}"
    return error.message


# python-statemachine and portalocker log through the standard logging module.
ROUTED_LOGGERS = ("statemachine", "portalocker")


def _route_standard_logging(logger: Any) -> Callable[[], None]:
    """Send what ``ROUTED_LOGGERS`` emit through standard logging (WARNING and up, their
    default level) to loguru's sinks, so it lands in the same log. Returns the undo."""
    import logging

    class Intercept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            level: str | int
            try:
                level = logger.level(record.levelname).name
            except ValueError:
                level = record.levelno
            logger.bind(env=None).opt(exception=record.exc_info).log(
                level, "{}: {}", record.name, record.getMessage()
            )

    handler = Intercept(level=logging.DEBUG)
    for name in ROUTED_LOGGERS:
        logging.getLogger(name).addHandler(handler)

    def undo() -> None:
        for name in ROUTED_LOGGERS:
            logging.getLogger(name).removeHandler(handler)

    return undo


def _file_sink(logger: Any, log_file: LogFile) -> int:
    sink: int = logger.add(
        log_file.write, level="INFO", format=FILE_FORMAT, colorize=False, catch=False
    )
    return sink


def log_traceback(workdir: Path, command: str, error: BaseException) -> Path | None:
    """Append ``error``'s traceback to the log file; its path, or None if it cannot be written."""
    path = log_path(workdir)
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="microseconds")
    text = "".join(traceback.format_exception(error))
    entry = f"{stamp} | ERROR   | internal error in 'statemgr {command}':\n{text}"
    log_file = LogFile(path, _ignore)
    try:
        written = log_file.write(entry if entry.endswith("\n") else entry + "\n")
    finally:
        log_file.close()
    return path if written else None
