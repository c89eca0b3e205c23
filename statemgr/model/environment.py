"""An environment as created from its config: name, SSH credentials, folders, steps."""

from __future__ import annotations

import math
import re

import attrs

from machines.names import Phase
from statemgr.model.names import EnvironmentName

STEP_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_STEP_TIMEOUT = 3600.0
DEFAULT_RETRY_DELAY = 5.0
MAX_RETRIES = 100
DEFAULT_SSH_PORT = 22


def current_user() -> str:
    """The name of the user running statemgr: the default SSH user (contract r2)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a bare container)
        import os

        return str(os.getuid())


@attrs.frozen
class SshCredentials:
    """What steps need to reach the machine; key paths are absolute."""

    private_key: str
    public_key: str
    username: str = attrs.field(factory=current_user)
    port: int = DEFAULT_SSH_PORT


@attrs.frozen
class Step:
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

    def __attrs_post_init__(self) -> None:
        # The config loader says all of this with key paths; this keeps an API caller (and
        # the state file) from holding a step that could never run or be read back.
        if (self.run is None) == (self.call is None):
            raise ValueError(f"step {self.name!r} needs exactly one of run or call")
        if self.run is not None and not self.run:
            raise ValueError(f"step {self.name!r}: run is empty")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"step {self.name!r}: timeout must be a positive number of seconds")
        if isinstance(self.retries, bool) or not 0 <= self.retries <= MAX_RETRIES:
            raise ValueError(f"step {self.name!r}: retries must be an integer from 0 to 100")
        if not (math.isfinite(self.retry_delay) and self.retry_delay >= 0):
            raise ValueError(f"step {self.name!r}: retry_delay must be 0 or more seconds")

    @property
    def attempts(self) -> int:
        """How many times the step may run: once, and once more for each retry."""
        return self.retries + 1

    @property
    def kind(self) -> str:
        return "python" if self.call is not None else "command"

    @property
    def texts(self) -> list[str]:
        """The strings in which placeholders are expanded: run, cwd and env values."""
        run = [self.run] if isinstance(self.run, str) else list(self.run or ())
        cwd = [self.cwd] if self.cwd is not None else []
        return [*run, *cwd, *self.env.values()]


@attrs.frozen
class Phases:
    """The steps of each phase, in order; any may be empty. ``check``: the health checks."""

    provision: tuple[Step, ...] = ()
    configure: tuple[Step, ...] = ()
    release: tuple[Step, ...] = ()
    run: tuple[Step, ...] = ()
    destroy: tuple[Step, ...] = ()
    check: tuple[Step, ...] = ()

    def steps(self, phase: Phase) -> tuple[Step, ...]:
        result: tuple[Step, ...] = getattr(self, Phase(phase).value)
        return result


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
