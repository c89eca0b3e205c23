"""Helpers of the hardening tests: the installed ``statemgr``, configs, a second user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

STATEMGR = Path(sys.executable).parent / "statemgr"
NOBODY = "nobody"
CONTRACT_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 130, 143}


class Result:
    """What one run of the CLI gave: exit code, stdout, stderr."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATEMGR_")}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def installed(
    *argv: str, cwd: Path | None = None, user: str | None = None, timeout: float = 60
) -> Result:
    """The installed ``statemgr`` in a subprocess; as ``user`` (runuser) when given."""
    command = [str(STATEMGR), *argv]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def as_user(user: str, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Any command as ``user``."""
    return subprocess.run(
        ["runuser", "-u", user, "--", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_config(folder: Path, name: str, **phases: Sequence[Mapping[str, object]]) -> Path:
    """A TOML config for ``name`` with the given steps per phase."""
    lines = ["[environment]", f'name = "{name}"', ""]
    for phase, steps in phases.items():
        for step in steps:
            lines.append(f"[[{phase}.steps]]")
            lines += [f"{key} = {toml_value(value)}" for key, value in step.items()]
            lines.append("")
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines))
    return path


def ok_step(name: str) -> dict[str, object]:
    return {"name": name, "run": ["true"]}


def created(workdir: Path, name: str, **phases: Sequence[Mapping[str, object]]) -> Path:
    """``name`` created in ``workdir`` through the installed statemgr; its config's path."""
    config = write_config(workdir, name, **phases)
    result = installed("create", str(config), cwd=workdir)
    assert result.code == 0, result
    return config


def no_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" not in text
