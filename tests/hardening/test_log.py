"""The tool's log can never turn statemgr against its user, nor break a command (issue 12,
items 4, 7, 8 and 9), through the installed ``statemgr``."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
from pathlib import Path

import pytest

from statemgr.cli.logfile import LogFile
from statemgr.service.workspace import Workspace

from .conftest import mount
from .support import STATEMGR, clean_env, created, installed, no_traceback, ok_step, write_config

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

LOG = Path("logs") / "statemgr.log"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_item4_under_umask_000_everything_is_private(workdir: Path) -> None:
    """Item 4: under umask 000, logs/, build/, data/ and what is in them are 0700/0600."""
    config = workdir / "web.toml"
    config.write_text(
        '[environment]\nname = "web"\n[[provision.steps]]\nname = "p"\nrun = "true"\n'
    )
    done = subprocess.run(
        ["sh", "-c", f"umask 000 && {STATEMGR} create web.toml && {STATEMGR} provision web"],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for folder in ("logs", "build", "build/web", "data", "data/web", "data/web/traces"):
        assert _mode(workdir / folder) == 0o700, folder
    files = [workdir / LOG, *(workdir / "data" / "web").rglob("*")]
    for path in files:
        if path.is_file():
            assert _mode(path) == 0o600, path


def test_item4_a_link_at_the_log_is_not_followed(workdir: Path, tmp_path: Path) -> None:
    """Item 4: logs/statemgr.log -> a victim file: not one byte appended to the victim;
    one warning line, and the command's exit code and output are as without a log."""
    created(workdir, "web", provision=[ok_step("p")])
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (workdir / LOG).unlink()
    (workdir / LOG).symlink_to(victim)
    result = installed("--json", "provision", "web", cwd=workdir)
    assert result.code == 0, result
    assert result.json()["state"] == "provisioned"  # one JSON document, the status
    assert victim.read_text() == "precious\n"
    warnings = [line for line in result.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "symbolic link" in warnings[0], result.err
    assert no_traceback(result.err)


def test_item7_a_fifo_at_the_log_never_hangs_a_command(workdir: Path) -> None:
    """Item 7: a FIFO at logs/statemgr.log (no reader, or a reader): the command runs."""
    created(workdir, "web", provision=[ok_step("p")])
    (workdir / LOG).unlink()
    os.mkfifo(workdir / LOG)
    result = installed("provision", "web", cwd=workdir, timeout=30)
    assert result.code == 0, result
    assert "FIFO" in result.err and no_traceback(result.err)
    reader = os.open(workdir / LOG, os.O_RDONLY | os.O_NONBLOCK)  # now with a reader
    try:
        result = installed("destroy", "web", cwd=workdir, timeout=30)
        assert result.code == 0, result
        assert os.read(reader, 100) == b""  # nothing was written into the pipe
    finally:
        os.close(reader)


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_item8_a_full_log_disk_changes_no_exit_code(
    workdir: Path, mounts: list[Path], json_mode: bool
) -> None:
    """Item 8: logs/ on a full tmpfs: configure saves 'configured' and exits 0, with one
    warning line, no traceback, and (with --json) exactly one JSON document."""
    created(workdir, "web", provision=[ok_step("p")], configure=[ok_step("c")])
    assert installed("provision", "web", cwd=workdir).code == 0
    logs = workdir / "logs"
    for path in logs.iterdir():
        path.unlink()
    mount("-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", str(logs))
    mounts.append(logs)
    filler = os.open(logs / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with pytest.raises(OSError):
            while True:
                os.write(filler, b"x" * 4096)
    finally:
        os.close(filler)
    options = ["--json"] if json_mode else []
    result = installed(*options, "configure", "web", cwd=workdir)
    assert result.code == 0, result
    assert no_traceback(result.err), result.err
    warnings = [line for line in result.err.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.err
    if json_mode:
        assert json.loads(result.out)["state"] == "configured"
    status = installed("--json", "status", "web", cwd=workdir).json()
    assert status["state"] == "configured"


def test_item8_a_read_only_log_folder_changes_no_exit_code(
    workdir: Path, mounts: list[Path]
) -> None:
    """Item 8: logs/ on a read-only mount: the command works, one warning line."""
    created(workdir, "web", provision=[ok_step("p")])
    logs = workdir / "logs"
    mount("--bind", str(logs), str(logs))
    mounts.append(logs)
    remount = subprocess.run(
        ["mount", "-o", "remount,ro,bind", str(logs)], capture_output=True, check=False
    )
    if remount.returncode != 0:
        pytest.skip("cannot remount read-only here")
    (workdir / "logs-check").touch()  # the workspace itself stays writable
    result = installed("provision", "web", cwd=workdir)
    assert result.code == 0, result
    assert no_traceback(result.err)
    assert sum("warning" in line for line in result.err.splitlines()) == 1, result.err


# --- item 9: concurrent commands across rotation -------------------------------------------


def _write_lines(path: str, writer: int, count: int, max_bytes: int) -> None:
    log = LogFile(Path(path), lambda text: None, max_bytes=max_bytes, keep=1000)
    for number in range(count):
        assert log.write(f"writer {writer} line {number:05d} {'x' * 60}\n")
    log.close()


def test_item9_concurrent_writers_lose_no_line_across_rotation(tmp_path: Path) -> None:
    """Item 9: 16 processes writing across many rotations: every line is in exactly one
    file, whole, and each rotated file was rotated once (none tiny)."""
    path = tmp_path / "logs" / "statemgr.log"
    writers, count, max_bytes = 16, 400, 64 * 1024
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_write_lines, args=(str(path), writer, count, max_bytes))
        for writer in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    files = sorted(path.parent.iterdir())
    lines = [line for file in files for line in file.read_text().splitlines()]
    expected = {f"writer {w} line {n:05d} {'x' * 60}" for w in range(writers) for n in range(count)}
    assert len(lines) == len(expected) and set(lines) == expected
    rotated = [file for file in files if file.name != "statemgr.log"]
    total = sum(file.stat().st_size for file in files)
    assert len(rotated) <= total // max_bytes  # no double rotation
    assert all(file.stat().st_size >= max_bytes for file in rotated)


def test_item9_sixteen_commands_crossing_the_rotation(workdir: Path) -> None:
    """Item 9 through the CLI: a log 200 bytes short of 10 MB, 16 commands at once: one
    rotation (statemgr.log.1), and every command's 'started' and 'done' line is kept."""
    names = [f"e{number}" for number in range(16)]
    workspace = Workspace(workdir)  # in this process: sixteen creates at a fraction of the cost
    for name in names:
        workspace.create(write_config(workdir, name))
    log = workdir / LOG
    log.parent.mkdir(mode=0o700)
    log.write_bytes(b"old line\n" * ((10 * 1024 * 1024 - 200) // 9))
    processes = [
        subprocess.Popen(
            [str(STATEMGR), "destroy", name],
            cwd=workdir,
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    files = sorted(p.name for p in log.parent.iterdir())
    assert files == ["statemgr.log", "statemgr.log.1"]
    text = log.read_text() + (log.parent / "statemgr.log.1").read_text()
    for name in names:
        assert f"statemgr destroy {name} started" in text, name
        assert f"statemgr destroy {name} done" in text, name
