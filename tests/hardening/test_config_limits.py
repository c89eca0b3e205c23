"""Config limits (issue 12, item 6): what cannot run is refused at validate and create
(exit 2), never later; through the installed ``statemgr``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .support import STATEMGR, created, installed, no_traceback

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

HEAD = '[environment]\nname = "web"\n'
STEP = '[[provision.steps]]\nname = "p"\n'

CONFIGS = {
    "nul-in-run": HEAD + STEP + 'run = "echo \\u0000"\n',
    "nul-in-argv": HEAD + STEP + 'run = ["echo", "a\\u0000b"]\n',
    "nul-in-env": HEAD + STEP + 'run = "true"\nenv = { A = "x\\u0000" }\n',
    "nul-in-cwd": HEAD + STEP + 'run = "true"\ncwd = "sub\\u0000dir"\n',
    "nul-in-a-key": HEAD + STEP + 'run = "true"\nenv = { "A\\u0000" = "x" }\n',
    "value-over-64k": HEAD + STEP + f'run = "echo {"x" * (64 * 1024)}"\n',
    "cwd-over-path-max": HEAD + STEP + f'run = "true"\ncwd = "{"d/" * 2500}"\n',
    "cwd-name-over-name-max": HEAD + STEP + f'run = "true"\ncwd = "{"n" * 300}"\n',
    "key-path-5000": HEAD + f'[ssh]\nprivate_key = "{"k" * 5000}"\npublic_key = "k.pub"\n',
    "nested-5000": HEAD + "deep = " + "[" * 5000 + "]" * 5000 + "\n",
    "nested-40": HEAD + "deep = " + "[" * 40 + "]" * 40 + "\n",
}


@pytest.mark.parametrize("text", CONFIGS.values(), ids=CONFIGS.keys())
def test_item6_refused_at_validate_and_create(workdir: Path, text: str) -> None:
    """Item 6: each is exit 2 at validate and at create, naming the file; nothing created."""
    config = workdir / "web.toml"
    config.write_text(text)
    for command in ("validate", "create"):
        result = installed(command, str(config), cwd=workdir)
        assert result.code == 2, result
        assert "web.toml" in result.err and no_traceback(result.err)
        assert len(result.err.splitlines()) <= 2
    assert not (workdir / "data" / "web").exists()


NOT_FILES = {"zero": "/dev/zero", "urandom": "/dev/urandom", "null": "/dev/null", "dir": "."}


@pytest.mark.parametrize("config", NOT_FILES.values(), ids=NOT_FILES.keys())
def test_item6_a_device_or_a_folder_is_not_a_config(workdir: Path, config: str) -> None:
    """Item 6: ``validate /dev/zero`` ends at once, exit 2 (it read forever before)."""
    result = installed("validate", config, cwd=workdir, timeout=30)
    assert result.code == 2, result
    assert no_traceback(result.err)


def test_item6_huge_files_and_fifos_as_config(workdir: Path) -> None:
    """Item 6: a config over 4 MiB is refused unread; a FIFO with no writer does not hang;
    a pipe with a writer (``<(...)``) is read."""
    huge = workdir / "huge.toml"
    with huge.open("wb") as stream:
        stream.truncate(1024 * 1024 * 1024)  # sparse: 1 GB of NUL bytes
    result = installed("validate", str(huge), cwd=workdir, timeout=30)
    assert result.code == 2 and "bytes" in result.err, result
    fifo = workdir / "fifo.toml"
    os.mkfifo(fifo)
    result = installed("validate", str(fifo), cwd=workdir, timeout=30)
    assert result.code == 2 and no_traceback(result.err), result
    (workdir / "ok.toml").write_text(HEAD)
    piped = installed("--json", "validate", "/dev/stdin", cwd=workdir)  # stdin is /dev/null
    assert piped.code == 2


def test_item6_a_nul_in_an_old_state_fails_the_step_not_the_tool(workdir: Path) -> None:
    """Item 6: a state written before these checks, with a NUL in a provision and a destroy
    step: provision fails the step (exit 1, recorded), not exit 70 leaving it interrupted;
    destroy fails the same way (exit 1) and the environment stays usable."""
    created(
        workdir,
        "web",
        provision=[{"name": "p", "run": ["echo", "PLACEHOLDER"]}],
        destroy=[{"name": "d", "run": "echo PLACEHOLDER"}],
    )
    state = workdir / "data" / "web" / "state.json"
    document = json.loads(state.read_text())
    state.write_text(json.dumps(document).replace("PLACEHOLDER", "a\\u0000b"))
    result = installed("provision", "web", cwd=workdir)
    assert result.code == 1, result
    status = installed("--json", "status", "web", cwd=workdir).json()
    assert (status["state"], status["interrupted"]) == ("provision_failed", False)
    result = installed("destroy", "web", cwd=workdir)
    assert result.code == 1 and no_traceback(result.err), result
    status = installed("--json", "status", "web", cwd=workdir).json()
    assert status["interrupted"] is False and status["failure"]["phase"] == "destroy"
