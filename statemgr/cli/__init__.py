"""The statemgr command line: parse, run one command, print, return the exit code.

This is the only place in statemgr that prints or exits. It stays light: the parser and
the reading commands import no statechart machinery, runners, loguru or portalocker;
the modules of the state-changing commands are imported only when one of them runs.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from statemgr.cli import quick
from statemgr.cli.console import Console, Options
from statemgr.errors import (
    ConfigError,
    EnvironmentNotFound,
    InvalidName,
    StatemgrError,
    StorageError,
)
from statemgr.hints import suggesting_with
from statemgr.model.names import EnvironmentName

if TYPE_CHECKING:  # argparse itself: only for command lines the quick parser leaves to it
    import argparse

    from statemgr.cli.parser import ArgumentFailure

__all__ = ["main"]

Handler = Callable[["argparse.Namespace", Console], int]
DEMO_DIR = "statemgr-demo"
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_SIGINT = 130
EXIT_SIGPIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    namespace = quick.parse(arguments)
    if namespace is None:
        from statemgr.cli.parser import ArgumentFailure, parse

        try:
            namespace = parse(arguments)
        except ArgumentFailure as failure:
            return _argument_error(failure, arguments)
        except SystemExit as done:  # --help
            return done.code if isinstance(done.code, int) else 0
    if namespace.command not in quick.COMMANDS:
        gc.enable()  # off during start-up (statemgr.__main__); a long command may need it
    console = Console(_options(namespace))
    try:
        with suggesting_with(_suggested_options(namespace, console.options)):
            return _run(namespace, console)
    except StatemgrError as error:
        return report_error(console, error, namespace)
    except KeyboardInterrupt:
        console.error("stopped by SIGINT")
        return EXIT_SIGINT
    except BrokenPipeError:  # the reader of stdout went away (``statemgr list | head``)
        _silence_stdout()
        return EXIT_SIGPIPE
    except OSError as error:  # the system said no: a storage failure (7), never a bug (70)
        where = os.fsdecode(error.filename) if error.filename is not None else "a file"
        return report_error(console, StorageError(where, "use", error), namespace)
    except Exception as error:
        return _internal_error(console, error, namespace)


def _options(namespace: argparse.Namespace) -> Options:
    from statemgr.store.select import store_spec

    workdir = namespace.workdir or os.environ.get("STATEMGR_WORKDIR") or os.getcwd()
    if namespace.command == "demo":  # its own folder: --dir, or --workdir given here
        workdir = namespace.dir or namespace.workdir or DEMO_DIR
    return Options(
        workdir=Path(workdir).absolute(),
        json=namespace.json,
        verbose=namespace.verbose,
        quiet=namespace.quiet,
        lock_timeout=namespace.lock_timeout,
        store=store_spec(namespace.store),
    )


def _suggested_options(namespace: argparse.Namespace, options: Options) -> list[str]:
    """The global options a suggested command needs to work when pasted here: --workdir
    unless the workspace is the one a bare ``statemgr`` finds (STATEMGR_WORKDIR, else the
    current folder); --store when it differs from the default (never with a password)."""
    from statemgr.hints import shown_path
    from statemgr.store.select import store_spec

    found: list[str] = []
    from_env = os.environ.get("STATEMGR_WORKDIR")
    default = Path(from_env).absolute() if from_env else Path.cwd().absolute()
    if options.workdir != default:
        found += ["--workdir", shown_path(options.workdir)]
    if options.store != store_spec(None) and not _has_password(options.store):
        found += ["--store", options.store]
    return found


def _has_password(spec: str) -> bool:
    credentials = spec.partition("://")[2].rpartition("@")[0]
    return ":" in credentials


def _handler(command: str) -> Handler:
    found = quick.HANDLERS.get(command)
    if found is None:
        from statemgr.cli.parser import HANDLERS

        found = HANDLERS[command]
    module, function = found
    handler: Handler = getattr(importlib.import_module(module), function)
    return handler


def _run(namespace: argparse.Namespace, console: Console) -> int:
    from statemgr.store.select import check_spec

    check_spec(console.options.store)  # an unknown store is refused before anything runs
    handler = _handler(namespace.command)
    name = getattr(namespace, "name", None)
    if name is not None:  # a bad name is refused before any file (the log too) is touched
        try:
            EnvironmentName(name)
        except InvalidName as error:
            error.hint = _name_hint(namespace.command, name)
            raise
    if namespace.command in quick.COMMANDS:
        return handler(namespace, console)  # reading: no log
    from statemgr.cli.parser import LOGGED_COMMANDS

    if namespace.command not in LOGGED_COMMANDS:
        return handler(namespace, console)
    from statemgr.cli.logs import logging_session

    def warn(text: str) -> None:
        console.err(console.paint_err("statemgr: warning: ", "yellow") + text)

    with logging_session(console.options, _command_line(namespace), warn):
        return handler(namespace, console)


def _name_hint(command: str, name: str) -> str | None:
    """When a config file was given where a name goes: the command with the name in it."""
    if not (name.endswith(".toml") or os.path.isfile(name)):
        return None
    from statemgr.hints import suggest

    declared = _declared_name(name)
    if declared is None:
        return f"'{command}' takes an environment's name (the name in its config), not a file"
    fixed = suggest(f"{command} {declared}")
    return f"'{command}' takes an environment's name, not its config file: '{fixed}'"


def _declared_name(config: str) -> str | None:
    """The [environment] name a config file declares, if it can be read."""
    import tomllib

    try:
        with open(config, "rb") as stream:
            name = tomllib.load(stream).get("environment", {}).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def _command_line(namespace: argparse.Namespace) -> str:
    name = getattr(namespace, "name", None)
    return f"{namespace.command} {name}" if name else str(namespace.command)


def report_error(console: Console, error: StatemgrError, namespace: argparse.Namespace) -> int:
    """The error as one or two lines on stderr (and a JSON object with --json)."""
    if console.options.verbose:
        _print_traceback(console, error)
    message = _naming_environment(error.message, error.env, getattr(namespace, "name", None))
    if isinstance(error, EnvironmentNotFound):
        message = f"{message}; looked in {_where(namespace, console.options)}"
    code = error.exit_code
    if console.json_mode:
        console.json({"error": {"code": code, "kind": error.kind, "message": message}})
        console.error(message)
    elif isinstance(error, ConfigError) and len(error.problems) > 1:
        console.error_lines(
            f"invalid config {error.path}: {len(error.problems)} problems", error.problems
        )
    else:
        console.error(message, error.hint)
    return code


def _where(namespace: argparse.Namespace, options: Options) -> str:
    """Where environments were looked for, and what chose it."""
    if options.store != "file":
        from statemgr.store.select import _redacted

        return f"the store {_redacted(options.store)}"
    if namespace.workdir:
        chosen = " (--workdir)"
    elif os.environ.get("STATEMGR_WORKDIR"):
        chosen = " (set by STATEMGR_WORKDIR)"
    else:
        chosen = " (the current folder)"
    return f"the workspace {options.workdir}{chosen}"


def _naming_environment(message: str, env: str | None, name: str | None) -> str:
    """Every error names its environment: prefix the command's NAME when the message does not."""
    if env is None and name and f"'{name}'" not in message and f"/{name}/" not in message:
        return f"environment '{name}': {message}"
    return message


def _argument_error(failure: ArgumentFailure, arguments: list[str]) -> int:
    if "--json" in arguments:
        document = {"error": {"code": EXIT_USAGE, "kind": "usage", "message": failure.message}}
        import json

        print(json.dumps(document, indent=2), flush=True)
    else:
        sys.stderr.write(failure.usage)
    print(f"statemgr: error: {failure.message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def _internal_error(console: Console, error: Exception, namespace: argparse.Namespace) -> int:
    from statemgr.cli.logs import log_traceback

    if console.options.verbose:
        _print_traceback(console, error)
    logged_to = log_traceback(console.options.workdir, _command_line(namespace), error)
    where = f"the traceback was logged to {logged_to}" if logged_to else "it could not be logged"
    message = (
        f"internal error in 'statemgr {_command_line(namespace)}': "
        f"{type(error).__name__}: {error}; {where}"
    )
    if console.json_mode:
        console.json({"error": {"code": EXIT_INTERNAL, "kind": "internal", "message": message}})
    console.error(message, "this is a bug in statemgr; please report it with the log")
    return EXIT_INTERNAL


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _print_traceback(console: Console, error: BaseException) -> None:
    import traceback

    console.err("".join(traceback.format_exception(error)).rstrip())
