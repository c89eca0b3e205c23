"""The environment config (TOML): read it, check every key, build an ``Environment``.

``load_config(path)`` either returns the environment or raises one ``ConfigError`` that
names the file and lists every problem found, each as ``KEY PATH: what was expected``,
for example ``provision.steps[1].timeout: expected a positive number of seconds, got "ten"``.
Step indexes in key paths count from 0, in the order of the ``[[PHASE.steps]]`` blocks.

Nothing here runs a step or touches the workspace; the only files read are the config and
(to check that they exist) the SSH key files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from machines.names import Phase
from statemgr.config.limits import check_limits, read_document
from statemgr.config.problems import Problems, as_table, expected, non_empty_string, unknown_keys
from statemgr.config.steps import KNOWN_PLACEHOLDERS, SSH_PLACEHOLDERS, phases_of
from statemgr.errors import ConfigError, InvalidName
from statemgr.model import Environment, EnvironmentName, SshCredentials
from statemgr.model.environment import DEFAULT_SSH_PORT, current_user

__all__ = [
    "KNOWN_PLACEHOLDERS",
    "SSH_PLACEHOLDERS",
    "load_config",
]

TOP_LEVEL_KEYS = ("environment", "ssh", *(phase.value for phase in Phase))
ENVIRONMENT_KEYS = ("name",)
SSH_KEYS = ("username", "private_key", "public_key", "port")


def load_config(path: str | os.PathLike[str]) -> Environment:
    """The environment declared by the TOML file at ``path``.

    Raises ``ConfigError`` (exit 2) naming ``path`` and every problem: a missing or
    unreadable file, invalid TOML (with line and column), unknown keys, missing or
    ill-typed values, a bad environment name, missing SSH key files, unknown placeholders.
    """
    shown = os.fspath(path)
    config_file = Path(os.path.abspath(shown))
    document = read_document(config_file, shown)
    problems = Problems()
    check_limits(document, problems)
    if problems:  # nothing else is read from a config that breaks the limits
        raise ConfigError(shown, problems.items)
    environment = _environment(document, config_file, problems)
    if problems or environment is None:
        raise ConfigError(shown, problems.items)
    return environment


def _environment(
    document: dict[str, Any], config_file: Path, problems: Problems
) -> Environment | None:
    unknown_keys(document, TOP_LEVEL_KEYS, "", problems)
    name = _environment_name(document, problems)
    ssh_declared = "ssh" in document
    ssh = _ssh(document.get("ssh"), config_file.parent, problems) if ssh_declared else None
    phases = phases_of(document, ssh_declared, problems)
    if problems or name is None:
        return None
    return Environment.new(name, phases=phases, ssh=ssh, config_file=str(config_file))


# --- [environment] and [ssh] -------------------------------------------------------------


def _environment_name(document: dict[str, Any], problems: Problems) -> str | None:
    if "environment" not in document:
        problems.add("environment", "missing: the config needs [environment] with a name")
        return None
    table = as_table(document["environment"], "environment", problems)
    if table is None:
        return None
    unknown_keys(table, ENVIRONMENT_KEYS, "environment", problems)
    if "name" not in table:
        problems.add("environment.name", f"missing: {InvalidName.RULE}")
        return None
    value = table["name"]
    if not isinstance(value, str):
        problems.add("environment.name", f"{expected('a string', value)}: {InvalidName.RULE}")
        return None
    try:
        return str(EnvironmentName(value))
    except InvalidName as invalid:
        problems.add("environment.name", invalid.message)
        return None


def _ssh(value: object, folder: Path, problems: Problems) -> SshCredentials | None:
    table = as_table(value, "ssh", problems)
    if table is None:
        return None
    unknown_keys(table, SSH_KEYS, "ssh", problems)
    username = table["username"] if "username" in table else current_user()
    if non_empty_string(username, "ssh.username", problems) is None:
        username = None
    port = table.get("port", DEFAULT_SSH_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problems.add("ssh.port", expected("an integer from 1 to 65535", port))
        port = None
    private_key = _key_file(table, "private_key", folder, problems)
    public_key = _key_file(table, "public_key", folder, problems)
    if username is None or port is None or private_key is None or public_key is None:
        return None
    return SshCredentials(
        private_key=private_key, public_key=public_key, username=username, port=port
    )


def _key_file(table: dict[str, Any], key: str, folder: Path, problems: Problems) -> str | None:
    """The absolute path of an existing key file; relative paths start at the config's folder."""
    where = f"ssh.{key}"
    if key not in table:
        problems.add(where, "missing: [ssh] needs private_key and public_key (key file paths)")
        return None
    value = non_empty_string(table[key], where, problems)
    if value is None:
        return None
    resolved = Path(os.path.normpath(folder / os.path.expanduser(value)))
    try:
        found = resolved.stat()
    except FileNotFoundError:
        problems.add(where, f"key file not found: {resolved}")
        return None
    except OSError as error:
        problems.add(where, f"cannot use the key file {resolved}: {error.strerror or error}")
        return None
    if not stat.S_ISREG(found.st_mode):
        problems.add(where, f"not a file: {resolved}")
        return None
    return str(resolved)
