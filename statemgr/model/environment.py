"""An environment as created from its config: name, SSH credentials, folders, steps."""

from __future__ import annotations

import re

import attrs

from statemgr.model.behaviour import (
    DEFAULT_RETRY_DELAY,
    DEFAULT_SSH_PORT,
    DEFAULT_STEP_TIMEOUT,
    MAX_RETRIES,
    PhasesMethods,
    StepMethods,
    current_user,
)
from statemgr.model.names import EnvironmentName

__all__ = [
    "DEFAULT_RETRY_DELAY",
    "DEFAULT_SSH_PORT",
    "DEFAULT_STEP_TIMEOUT",
    "MAX_RETRIES",
    "STEP_NAME_PATTERN",
    "Environment",
    "Phases",
    "SshCredentials",
    "Step",
    "current_user",
]

STEP_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@attrs.frozen
class SshCredentials:
    """What steps need to reach the machine; key paths are absolute."""

    private_key: str
    public_key: str
    username: str = attrs.field(factory=current_user)
    port: int = DEFAULT_SSH_PORT


@attrs.frozen
class Step(StepMethods):
    """One step of a phase: a command (``run``) or a Python callable (``call``)."""

    name: str
    run: tuple[str, ...] | str | None = None
    call: str | None = None
    cwd: str | None = None
    timeout: float = DEFAULT_STEP_TIMEOUT
    env: dict[str, str] = attrs.field(factory=dict, hash=False)
    # A failed attempt is tried again up to ``retries`` times, ``retry_delay`` seconds apart.
    retries: int = 0
    retry_delay: float = DEFAULT_RETRY_DELAY


@attrs.frozen
class Phases(PhasesMethods):
    """The steps of each phase, in order; any may be empty. ``check``: the health checks."""

    provision: tuple[Step, ...] = ()
    configure: tuple[Step, ...] = ()
    release: tuple[Step, ...] = ()
    run: tuple[Step, ...] = ()
    destroy: tuple[Step, ...] = ()
    check: tuple[Step, ...] = ()


@attrs.frozen
class Environment:
    """The environment's identity and declared work. Folders are relative to the workdir."""

    name: EnvironmentName
    data_dir: str
    build_dir: str
    phases: Phases = Phases()
    ssh: SshCredentials | None = None
    config_file: str | None = None
    # The SHA-256 of the config file as ``create`` or ``update`` read it (schema 5): a
    # config edited since is noticed (``statemgr update`` adopts it).
    config_hash: str | None = None

    @classmethod
    def new(
        cls,
        name: str,
        phases: Phases = Phases(),
        ssh: SshCredentials | None = None,
        config_file: str | None = None,
    ) -> Environment:
        """An environment with the contract's folders: data/NAME and build/NAME."""
        checked = EnvironmentName(name)
        return cls(
            name=checked,
            data_dir=f"data/{checked}",
            build_dir=f"build/{checked}",
            phases=phases,
            ssh=ssh,
            config_file=config_file,
        )
