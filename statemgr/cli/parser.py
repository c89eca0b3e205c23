"""The command line's grammar: every command and option of the contract, and nothing heavy.

Global options (--workdir, --json, -v, -q, --lock-timeout) are accepted before or after the
command: the main parser declares them with their defaults, and every subparser declares
them again with ``default=SUPPRESS``, so a value given after the command overrides the one
given before it and an option not given after the command leaves the first one in place.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import NoReturn

DIAGRAM_FORMATS = ("mermaid", "dot", "svg", "png")
PHASE_COMMANDS = ("provision", "configure", "release", "run")

# command -> (module, function) that runs it; modules are imported only when used.
HANDLERS: dict[str, tuple[str, str]] = {
    "status": ("statemgr.cli.reading", "status"),
    "list": ("statemgr.cli.reading", "list_environments"),
    "history": ("statemgr.cli.reading", "history"),
    "logs": ("statemgr.cli.traces", "logs"),
    "output": ("statemgr.cli.reading", "output"),
    "diagram": ("statemgr.cli.reading", "diagram"),
    "validate": ("statemgr.cli.changing", "validate"),
    "create": ("statemgr.cli.changing", "create"),
    "update": ("statemgr.cli.changing", "update"),
    **{command: ("statemgr.cli.changing", "planned") for command in PHASE_COMMANDS},
    "deploy": ("statemgr.cli.changing", "planned"),
    "redeploy": ("statemgr.cli.changing", "planned"),
    "check": ("statemgr.cli.changing", "check"),
    "destroy": ("statemgr.cli.changing", "planned"),
    "recover": ("statemgr.cli.changing", "recover"),
    "purge": ("statemgr.cli.changing", "purge"),
    "demo": ("statemgr.cli.demo", "demo"),
    "store": ("statemgr.cli.store_copy", "store_command"),
}

# Commands that write state: the CLI enables the log file for them.
LOGGED_COMMANDS = frozenset(
    {
        "create",
        "update",
        *PHASE_COMMANDS,
        "deploy",
        "redeploy",
        "check",
        "destroy",
        "recover",
        "purge",
        "demo",
        "store",
    }
)
# Commands that run a plan of phases: they take --resume and --var.
PLANNED_COMMANDS = frozenset({*PHASE_COMMANDS, "deploy", "redeploy", "destroy"})


class ArgumentFailure(Exception):
    """Bad arguments; raised instead of argparse's print-and-exit so that --json can answer."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentFailure(message, self.format_usage())


def _version() -> str:
    from statemgr import __version__

    return __version__


def lock_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, got {text!r}")
    return value


def variable(text: str) -> tuple[str, str]:
    """``--var KEY=VALUE``: KEY by the variable-name rule, VALUE anything (even empty)."""
    import re

    key, equals, value = text.partition("=")
    if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE with KEY of letters, digits and '_' not starting with a "
            f"digit, got {text!r}"
        )
    return key, value


def _add_plan_options(parser: argparse.ArgumentParser, *, resume: bool = True) -> None:
    if resume:
        parser.add_argument(
            "--resume",
            action="store_true",
            help="retry the failed phase at the step that failed (skip the steps that completed)",
        )
    parser.add_argument(
        "--var",
        metavar="KEY=VALUE",
        type=variable,
        action="append",
        default=[],
        dest="variables",
        help="a value for {var.KEY} (and $STATEMGR_VAR_KEY) in the steps; repeatable",
    )


# The global options each command honours (after the command, and in its --help); before
# the command every global option is accepted (an alias may carry them for all commands).
GLOBAL_OPTIONS = frozenset({"workdir", "json", "verbose", "quiet", "lock_timeout", "store", "yes"})
_LOCKING = frozenset(
    {"create", "deploy", "destroy", "recover", "purge", "demo", "redeploy", "check", "update"}
    | set(PHASE_COMMANDS)
)
_NOT_HONOURED: dict[str, frozenset[str]] = {
    "validate": frozenset({"workdir", "store"}),  # it reads a file, no workspace
    "demo": frozenset({"workdir"}),  # --dir says where (--workdir before it does too)
    "store": frozenset({"store"}),  # store copy names both: --from and --to
}
_CONFIRMING = frozenset({"destroy", "purge"})


def honoured(command: str) -> frozenset[str]:
    """The global options that ``command`` uses."""
    options = {"workdir", "json", "verbose", "quiet", "store"} - _NOT_HONOURED.get(
        command, frozenset()
    )
    if command in _LOCKING:
        options.add("lock_timeout")
    if command in _CONFIRMING:
        options.add("yes")
    return frozenset(options)


# One example per command, shown by its --help.
EXAMPLES: dict[str, str] = {
    "create": "statemgr create web.toml",
    "validate": "statemgr validate web.toml",
    "update": "statemgr update web.toml",
    "provision": "statemgr provision web",
    "configure": "statemgr configure web --resume",
    "release": "statemgr release web --var VERSION=1.2",
    "run": "statemgr run web",
    "deploy": "statemgr deploy web --lock-timeout 60",
    "redeploy": "statemgr redeploy web --var VERSION=1.3",
    "destroy": "statemgr destroy web --yes",
    "status": "statemgr status web --json",
    "list": "statemgr --workdir /srv/deploy list",
    "history": "statemgr history web",
    "logs": "statemgr logs web --list; statemgr logs web --follow",
    "recover": "statemgr recover web",
    "purge": "statemgr purge web",
    "store": "statemgr store copy --from file --to postgresql://deploy@db/statemgr",
    "diagram": "statemgr diagram --format svg --env web -o lifecycle.svg",
    "demo": "statemgr demo --keep",
}


def _add_global_options(
    parser: argparse.ArgumentParser, *, suppress: bool, only: frozenset[str] = GLOBAL_OPTIONS
) -> None:
    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    title = "global options (before or after the command)" if suppress else "global options"
    group = parser.add_argument_group(title)
    if "workdir" in only:
        group.add_argument(
            "--workdir",
            metavar="DIR",
            default=default(None),
            help="the workspace (data/, build/, logs/); default $STATEMGR_WORKDIR or the "
            "current directory",
        )
    group.add_argument(
        "--json", action="store_true", default=default(False), help="answer in JSON on stdout"
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="debug log and tracebacks on stderr",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="no progress output (nor the step output it shows)",
    )
    _add_valued_options(group, default, only)


def _add_valued_options(
    group: argparse._ArgumentGroup, default: Callable[[object], object], only: frozenset[str]
) -> None:
    if "lock_timeout" in only:
        group.add_argument(
            "--lock-timeout",
            metavar="SECONDS",
            type=lock_timeout,
            default=default(0.0),
            help="wait up to SECONDS for a locked environment (default 0: fail at once)",
        )
    if "store" in only:
        group.add_argument(
            "--store",
            metavar="STORE",
            default=default(None),
            help="where environments live: 'file' (default) or a postgresql:// URL; "
            "default $STATEMGR_STORE",
        )
    if "yes" in only:
        group.add_argument(
            "-y",
            "--yes",
            action="store_true",
            default=default(False),
            help="do not ask to type the environment's name on a terminal (destroy, purge)",
        )


_VALUED_OPTIONS = frozenset({"--workdir", "--lock-timeout", "--store"})


def command_in(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (skipping the values of global options), if any."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _VALUED_OPTIONS:
            skip = True
        elif token in HANDLERS:
            return token
        elif not token.startswith("-"):
            return None
    return None


def build_parser(only: str | None = None) -> Parser:
    """The whole grammar; with ``only``, just that command's options (start-up is faster:
    every command is still listed, only the named one gets its arguments)."""
    parser = Parser(
        prog="statemgr",
        description="Manage deployment environments as a durable state machine.",
        epilog="Run 'statemgr demo' for a tour; 'statemgr COMMAND --help' for a command.",
    )
    _add_global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"statemgr {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return commands.add_parser(name, help=help_text)  # listed, not detailed
        common = Parser(add_help=False)
        _add_global_options(common, suppress=True, only=honoured(name))
        example = EXAMPLES.get(name)
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[common],
            epilog=f"example:\n  {example}" if example else None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(command=name)
        return sub

    _add_commands(command)
    return parser


def _add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    for name, what in (
        ("create", "create an environment from a config file"),
        ("validate", "check a config file; changes nothing"),
        ("update", "adopt a changed config: its steps and ssh settings, the state unchanged"),
    ):
        command(name, what).add_argument("config", metavar="CONFIG", help="the TOML config")
    named = {
        "provision": "run the provision phase",
        "configure": "run the configure phase",
        "release": "run the release phase",
        "run": "run the run phase (start the application)",
        "deploy": "run the remaining phases up to running (retrying a failed one first)",
        "redeploy": "release again, then run: a new version in one command",
        "check": "run the health checks of a running environment (writes nothing if healthy)",
        "destroy": "run the destroy steps; the environment ends destroyed",
        "status": "show the state, failure, lock and next steps",
        "history": "show every transition",
        "recover": "mark an interrupted environment as failed in its phase",
        "purge": "remove data/NAME and build/NAME of a destroyed environment",
    }
    for name, what in named.items():
        sub = command(name, what)
        sub.add_argument("name", metavar="NAME", help="the environment")
        if name in PLANNED_COMMANDS or name == "check":
            _add_plan_options(sub, resume=name != "check")
        if name == "purge":
            sub.add_argument(
                "--force",
                action="store_true",
                help="purge in any state (asks to type the name on a terminal; see --yes)",
            )
    output = command("output", "show the outputs the steps handed on (one, bare, with KEY)")
    output.add_argument("name", metavar="NAME", help="the environment")
    output.add_argument("key", metavar="KEY", nargs="?", help="just this output's value")
    command("list", "list every environment")
    logs = command("logs", "show the trace of a command run (what its steps printed)")
    logs.add_argument("name", metavar="NAME", help="the environment")
    logs.add_argument(
        "--run", metavar="RUN", help="this run (as --list and failure.trace_file name it)"
    )
    logs.add_argument(
        "--follow", action="store_true", help="follow a run in progress until it ends"
    )
    logs.add_argument("--list", action="store_true", help="list the runs: started, command, result")
    _add_store_command(command("store", "copy environments between stores (store copy)"))
    diagram = command("diagram", "draw the lifecycle statechart")
    diagram.add_argument(
        "--format",
        choices=DIAGRAM_FORMATS,
        default="mermaid",
        help="mermaid or dot (text, no other program needed), svg or png (Graphviz's dot, "
        "with -o FILE); default mermaid",
    )
    diagram.add_argument("--env", metavar="NAME", help="highlight this environment's state")
    diagram.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    demo = command("demo", "run the whole lifecycle of a built-in local environment")
    demo.add_argument(
        "--dir",
        metavar="DIR",
        default=None,
        help="the demo's workspace (default ./statemgr-demo; --workdir DIR does the same)",
    )
    demo.add_argument("--keep", action="store_true", help="leave it running at the end")


def _add_store_command(store: argparse.ArgumentParser) -> None:
    actions = store.add_subparsers(dest="action", metavar="ACTION", required=True)
    what = "copy environments (state, history, traces) from one store to another"
    copy = actions.add_parser("copy", help=what, description=what)
    _add_global_options(copy, suppress=True, only=honoured("store"))
    copy.add_argument("--from", dest="source", metavar="STORE", required=True, help="from STORE")
    copy.add_argument("--to", dest="target", metavar="STORE", required=True, help="to STORE")
    copy.add_argument("names", metavar="NAME", nargs="*", help="only these (default: all)")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; raises ``ArgumentFailure`` on bad arguments, SystemExit(0) on --help."""
    arguments = list(argv)
    return build_parser(command_in(arguments)).parse_args(arguments)
