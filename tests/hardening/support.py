"""Helpers of the hardening tests: the installed ``statemgr``, configs, a second user."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# One TOML writer and one result for every test's statemgr.
from cli.support import STATEMGR, Result, write_config

NOBODY = "nobody"
CONTRACT_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 130, 143}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any STATEMGR_* variable nor NO_COLOR, plus ``extra``:
    stricter than the CLI tests' (no PostgreSQL schema passes here either)."""
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


def main_as(user: str, argv: Sequence[str], cwd: Path) -> Result:
    """``statemgr.cli.main(argv)`` in a forked child that dropped to ``user`` (the installed
    script's interpreter may sit where another user cannot reach it)."""
    import pwd
    import tempfile

    entry = pwd.getpwnam(user)
    _import_everything()  # the interpreter's own files may be out of the user's reach
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)
                os.chdir(cwd)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                from statemgr.cli import main

                code = main(list(argv))
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return Result(os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode())


def _import_everything() -> None:
    """Import every statemgr module (and so the libraries and standard modules they use)."""
    import importlib
    import pkgutil

    import statemgr

    for module in pkgutil.walk_packages(statemgr.__path__, "statemgr."):
        if module.name.startswith("statemgr.demo.files"):
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:
            continue
    for name in ("loguru", "portalocker", "pwd", "grp", "shutil", "socket", "signal"):
        importlib.import_module(name)
