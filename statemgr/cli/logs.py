"""The tool's log, logs/statemgr.log under the workdir: loguru, enabled by the CLI only.

State-changing commands open a logging session: the library's logger is enabled, loguru's
default sink removed, a rotating file sink added at INFO (one line per transition, with
the environment and phase the library binds), and a stderr sink at DEBUG with -v. The
session removes its sinks when the command ends, so running ``main()`` in-process leaves
no file open.

``log_traceback`` writes an internal error's traceback with plain file I/O, so that a
reading command that fails unexpectedly does not import loguru to say so.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statemgr.cli.console import Options
from statemgr.errors import StatemgrError, StorageError

if TYPE_CHECKING:
    from loguru import Record

LOG_FILE = Path("logs") / "statemgr.log"
# Commands that may run every minute (from cron): no "started"/"done" lines; their
# transitions and errors are logged as any command's.
QUIET_COMMANDS = frozenset({"check"})
ROTATION = "10 MB"
RETENTION = 5
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


@contextmanager
def logging_session(options: Options, command: str) -> Iterator[None]:
    """Log the library's transitions (and, with -v, its debug lines) while the command runs."""
    from loguru import logger

    path = log_path(options.workdir)
    logger.remove()
    logger.configure(patcher=_where)
    sinks = [_file_sink(logger, path)]
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
            "statemgr {} failed (exit {}): {}", command, error.exit_code, error.message
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


def _file_sink(logger: Any, path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sink: int = logger.add(
            path,
            level="INFO",
            format=FILE_FORMAT,
            rotation=ROTATION,
            retention=RETENTION,
            encoding="utf-8",
            colorize=False,
        )
    except OSError as error:
        raise StorageError(str(path), "open the log file", error) from None
    return sink


def log_traceback(workdir: Path, command: str, error: BaseException) -> Path | None:
    """Append ``error``'s traceback to the log file; its path, or None if it cannot be written."""
    path = log_path(workdir)
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="microseconds")
    text = "".join(traceback.format_exception(error))
    entry = f"{stamp} | ERROR   | internal error in 'statemgr {command}':\n{text}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(entry if entry.endswith("\n") else entry + "\n")
    except OSError:
        return None
    return path
