"""No link, FIFO or oversized file in a workspace turns statemgr against its user (issue
12, items 1, 3, 4, 7 and 12), through the installed ``statemgr``."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import time
from pathlib import Path

import pytest

from .support import (
    NOBODY,
    STATEMGR,
    as_user,
    clean_env,
    created,
    installed,
    no_traceback,
    ok_step,
    write_config,
)

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")


def _data(workdir: Path, name: str) -> Path:
    return workdir / "data" / name


# --- item 1: a link at state.lock --------------------------------------------------------


def test_item1_a_link_at_the_lock_file_is_refused_not_truncated(
    workdir: Path, tmp_path: Path
) -> None:
    """Item 1: state.lock -> a file: provision refuses (exit 7, naming the path); the
    target keeps every byte. A dangling link does not create its target."""
    created(workdir, "alpha", provision=[ok_step("p")])
    target = tmp_path / "precious.txt"
    target.write_text("do not truncate\n")
    lock = _data(workdir, "alpha") / "state.lock"
    lock.unlink()
    lock.symlink_to(target)
    result = installed("provision", "alpha", cwd=workdir)
    assert result.code == 7, result
    assert "data/alpha/state.lock" in result.err and "symbolic link" in result.err
    assert target.read_text() == "do not truncate\n"
    lock.unlink()
    dangling = tmp_path / "created-by-statemgr"
    lock.symlink_to(dangling)
    assert installed("destroy", "alpha", cwd=workdir).code == 7
    assert not dangling.exists() and not dangling.is_symlink()


def test_item1_another_user_cannot_plant_a_lock_link_for_root(shared_root: Path) -> None:
    """Item 1, as two users: with data/ at 0777, nobody makes data/alpha/state.lock -> a
    root-owned file; root's create is refused (exit 7) and the file is intact."""
    workdir = shared_root / "ws"
    (workdir / "data").mkdir(parents=True)
    os.chmod(workdir / "data", 0o777)
    victim = shared_root / "root-owned.txt"
    victim.write_text("root's data\n")
    as_user(NOBODY, "mkdir", str(workdir / "data" / "alpha"))
    as_user(NOBODY, "ln", "-s", str(victim), str(workdir / "data" / "alpha" / "state.lock"))
    config = write_config(shared_root, "alpha", provision=[ok_step("p")])
    result = installed("create", str(config), cwd=workdir)
    assert result.code == 7, result
    assert "data/" in result.err and "chmod" in result.err  # the fix is named
    assert victim.read_text() == "root's data\n"


# --- item 3: purge through a link ----------------------------------------------------------


def test_item3_purge_never_follows_a_link(workdir: Path, tmp_path: Path) -> None:
    """Item 3: data/gamma -> alpha, or -> a folder outside: purge --force refuses (exit 7);
    alpha's state and the outside files are all still there."""
    created(workdir, "alpha")
    alpha_state = (_data(workdir, "alpha") / "state.json").read_bytes()
    gamma = _data(workdir, "gamma")
    gamma.symlink_to(_data(workdir, "alpha"))
    result = installed("purge", "--force", "gamma", cwd=workdir)
    assert result.code == 7 and "symbolic link" in result.err, result
    assert (_data(workdir, "alpha") / "state.json").read_bytes() == alpha_state
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "state.json").write_text("{}")
    (outside / "keep.txt").write_text("keep")
    gamma.unlink()
    gamma.symlink_to(outside)
    result = installed("purge", "--force", "gamma", cwd=workdir)
    assert result.code == 7, result
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt", "state.json"]
    assert installed("--json", "status", "alpha", cwd=workdir).code == 0


def test_item3_purge_removes_a_build_link_not_its_target(workdir: Path, tmp_path: Path) -> None:
    """Item 3: build/gamma -> a folder outside: purge removes the link, not what is there."""
    created(workdir, "gamma")
    outside = tmp_path / "bigdisk"
    outside.mkdir()
    (outside / "artifact").write_text("keep")
    build = workdir / "build" / "gamma"
    build.rmdir()
    build.symlink_to(outside)
    result = installed("purge", "--force", "gamma", cwd=workdir)
    assert result.code == 0, result
    assert not build.is_symlink() and (outside / "artifact").read_text() == "keep"


# --- item 4: a link at traces/ ------------------------------------------------------------------


def test_item4_a_link_at_traces_is_refused(workdir: Path, tmp_path: Path) -> None:
    """Item 4: traces/ -> a victim folder: provision refuses (exit 7) before any step;
    the victim is neither chmodded nor written to."""
    created(workdir, "web", provision=[{"name": "p", "run": "touch ran"}])
    victim = tmp_path / "victim"
    victim.mkdir()
    os.chmod(victim, 0o755)
    traces = _data(workdir, "web") / "traces"
    if traces.exists():
        for item in traces.iterdir():
            item.unlink()
        traces.rmdir()
    traces.symlink_to(victim)
    result = installed("provision", "web", cwd=workdir)
    assert result.code == 7, result
    assert "traces" in result.err and no_traceback(result.err)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o755 and list(victim.iterdir()) == []
    assert not (workdir / "build" / "web" / "ran").exists()
    assert installed("--json", "status", "web", cwd=workdir).json()["state"] == "created"


# --- item 7: FIFOs and huge files ----------------------------------------------------------------


def test_item7_a_fifo_at_state_json_never_hangs_a_reader(workdir: Path) -> None:
    """Item 7: a FIFO at state.json: status and history exit 6 at once; list reports it and
    goes on with the others."""
    created(workdir, "alpha")
    created(workdir, "beta")
    state = _data(workdir, "alpha") / "state.json"
    state.unlink()
    os.mkfifo(state)
    for command in ("status", "history"):
        result = installed(command, "alpha", cwd=workdir, timeout=20)
        assert result.code == 6 and "FIFO" in result.err, result
    listed = installed("--json", "list", cwd=workdir, timeout=20)
    assert listed.code == 0, listed
    entries = {entry["name"]: entry for entry in listed.json()}
    assert entries["alpha"]["state"] is None and "FIFO" in entries["alpha"]["error"]
    assert entries["beta"]["state"] == "created"


def test_item7_a_fifo_at_state_lock_never_hangs(workdir: Path) -> None:
    """Item 7: a FIFO at state.lock: provision refuses at once (exit 7); status answers."""
    created(workdir, "alpha", provision=[ok_step("p")])
    lock = _data(workdir, "alpha") / "state.lock"
    lock.unlink()
    os.mkfifo(lock)
    result = installed("provision", "alpha", cwd=workdir, timeout=20)
    assert result.code == 7 and "FIFO" in result.err, result
    status = installed("--json", "status", "alpha", cwd=workdir, timeout=20)
    assert status.code == 0 and status.json()["lock"] is None


def _limit_memory() -> None:
    limit = 512 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_item7_a_sparse_1gb_state_is_refused_unread(workdir: Path) -> None:
    """Item 7: a sparse 1 GB state.json: exit 6 naming the limit, in a process that may not
    use more than 512 MB of memory (it took 2 GB before)."""
    created(workdir, "alpha")
    state = _data(workdir, "alpha") / "state.json"
    with state.open("r+b") as stream:
        stream.truncate(1024 * 1024 * 1024)
    for argv in (["status", "alpha"], ["provision", "alpha"], ["list"]):
        done = subprocess.run(
            [str(STATEMGR), "--json", *argv],
            cwd=workdir,
            env=clean_env(),
            capture_output=True,
            text=True,
            preexec_fn=_limit_memory,
            timeout=30,
            check=False,
        )
        expected = 0 if argv == ["list"] else 6
        assert done.returncode == expected, (argv, done.stderr)
        assert "over the limit" in done.stderr + done.stdout
        assert no_traceback(done.stderr)


# --- item 12: exit codes ----------------------------------------------------------------


def test_item12_a_fifo_state_is_unreadable_for_create_and_provision(workdir: Path) -> None:
    """Item 12: a FIFO at state.json gave 5 in provision and 3 in create: both are 6."""
    config = created(workdir, "alpha", provision=[ok_step("p")])
    state = _data(workdir, "alpha") / "state.json"
    state.unlink()
    os.mkfifo(state)
    assert installed("provision", "alpha", cwd=workdir, timeout=20).code == 6
    assert installed("create", str(config), cwd=workdir, timeout=20).code == 6


def test_item12_a_concurrent_purge_is_no_such_environment(workdir: Path) -> None:
    """Item 12: a command racing a purge exits 5 (or ran before it), never 7."""
    config = write_config(workdir, "e2", provision=[ok_step("p")])
    codes: set[int] = set()
    deadline = time.monotonic() + 8
    rounds = 0
    while time.monotonic() < deadline and rounds < 25:
        rounds += 1
        assert installed("create", str(config), cwd=workdir).code == 0
        command = [str(STATEMGR), "--lock-timeout", "10"]
        purge = subprocess.Popen(
            [*command, "purge", "--force", "e2"], cwd=workdir, env=clean_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        other = subprocess.Popen(
            [*command, "provision", "e2"], cwd=workdir, env=clean_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _, purge_err = purge.communicate(timeout=60)
        _, other_err = other.communicate(timeout=60)
        assert purge.returncode == 0, purge_err
        assert other.returncode in (0, 5), other_err
        codes.add(other.returncode)
    assert 5 in codes or 0 in codes


def test_item12_an_oserror_is_a_storage_failure_never_an_internal_error(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 12 (contract: "an OSError is never reported as 70"): one that escapes a
    command is exit 7 naming its file, in the contract's two lines."""
    import statemgr.cli.reading
    from statemgr.cli import main

    created(workdir, "web")

    def refused(*_args: object) -> int:
        raise PermissionError(13, "Permission denied", str(workdir / "somewhere"))

    monkeypatch.setattr(statemgr.cli.reading, "status", refused)
    assert main(["status", "web"]) == 7
    err = capsys.readouterr().err
    assert "Permission denied" in err and "somewhere" in err
    assert len(err.strip().splitlines()) == 2 and no_traceback(err)
