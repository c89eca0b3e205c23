"""A config checked as ``validate`` and ``create`` check it: the config loader's checks,
then every ``call`` imported (not called), then warnings that do not stop anything."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from machines.names import Phase
from statemgr.errors import ConfigError
from statemgr.hints import config_argument, suggest
from statemgr.model import Environment

# Phases whose steps make things that the destroy steps should take away again.
MAKING_PHASES = (Phase.provision, Phase.configure, Phase.release, Phase.run)


def checked_config(config: str | os.PathLike[str]) -> Environment:
    """The environment ``config`` declares; ``ConfigError`` lists every problem, bad calls
    included."""
    from statemgr.config import load_config
    from statemgr.runners.python import call_problems

    environment = load_config(config)
    problems = call_problems(environment, Path.cwd())
    if problems:
        raise ConfigError(os.fspath(config), problems)
    return environment


def config_warnings(environment: Environment) -> list[str]:
    """What is allowed but probably wrong: steps that make things, and none to destroy them."""
    phases = environment.phases
    making = [phase.value for phase in MAKING_PHASES if phases.steps(phase)]
    if making and not phases.destroy:
        destroy = suggest(f"destroy {environment.name}")
        return [
            f"{', '.join(making)} {'has' if len(making) == 1 else 'have'} steps but destroy "
            "has none: "
            f"'{destroy}' would mark it destroyed and tear nothing down"
        ]
    return []


def file_digest(config: str | os.PathLike[str]) -> str | None:
    """The SHA-256 of the config file's bytes, or None when it cannot be read now."""
    try:
        with open(config, "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return None


def config_drift(environment: Environment) -> str | None:
    """A warning when the config file recorded at create (or the last update) has changed
    since; None when it has not, or when that cannot be told (no hash, no file)."""
    if environment.config_hash is None or environment.config_file is None:
        return None
    now = file_digest(environment.config_file)
    if now is None or now == environment.config_hash:
        return None
    update = suggest(f"update {config_argument(environment.config_file)}")
    return (
        f"{config_argument(environment.config_file)} has changed since it was read (by "
        f"create or update); this command runs the steps read then. To use the new ones: "
        f"'{update}'"
    )
