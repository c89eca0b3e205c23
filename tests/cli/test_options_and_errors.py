"""Global options before or after the command, usage errors (2), unreadable state (6),
storage failures (7), internal errors (70), -v, -q, terminals and NO_COLOR; in-process."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import statemgr.cli.reading
from statemgr.cli import main

from .support import STATUS_KEYS, full_config, in_process, ok_step, write_config

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def web(workdir: Path, capsys: Capsys) -> Path:
    """The workspace with the environment 'web' created."""
    assert in_process(capsys, "create", str(full_config(workdir))).code == 0
    return workdir


# --- options before or after ----------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["--json", "status", "web"], ["status", "web", "--json"]),
        (["-q", "--json", "provision", "web"], ["provision", "web", "-q", "--json"]),
        (
            ["--lock-timeout", "2", "--json", "destroy", "web"],
            ["destroy", "--json", "web", "--lock-timeout=2"],
        ),
    ],
)
def test_global_options_before_or_after_the_command(
    tmp_path: Path, capsys: Capsys, before: list[str], after: list[str]
) -> None:
    outputs = []
    for index, argv in enumerate((before, after)):
        folder = tmp_path / f"ws{index}"
        folder.mkdir()
        in_process(capsys, "--workdir", str(folder), "create", str(full_config(folder)))
        result = in_process(capsys, *argv, "--workdir", str(folder))
        assert result.code == 0, result
        document = result.json()
        outputs.append({key: document[key] for key in ("state", "revision", "allowed_commands")})
        if "-q" in argv:
            assert result.err == ""
    assert outputs[0] == outputs[1]


def test_workdir_after_the_command_wins(tmp_path: Path, web: Path, capsys: Capsys) -> None:
    elsewhere = tmp_path / "elsewhere"
    result = in_process(capsys, "--workdir", str(elsewhere), "status", "web", "--workdir", str(web))
    assert result.code == 0, result


def test_statemgr_workdir_from_the_environment(
    tmp_path: Path, web: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert in_process(capsys, "status", "web").code == 5
    monkeypatch.setenv("STATEMGR_WORKDIR", str(web))
    assert in_process(capsys, "status", "web").code == 0
    assert in_process(capsys, "--workdir", str(tmp_path), "status", "web").code == 5


# --- exit 2 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["status"],
        ["status", "web", "extra"],
        ["list", "--lock-timeout", "soon"],
        ["list", "--lock-timeout", "-1"],
        ["diagram", "--format", "gif"],
        ["purge", "web", "--forse"],
    ],
)
def test_argument_errors_exit_2(workdir: Path, capsys: Capsys, argv: list[str]) -> None:
    result = in_process(capsys, *argv)
    assert result.code == 2
    assert result.out == ""
    assert "usage: statemgr" in result.err
    assert result.err.rstrip().splitlines()[-1].startswith("statemgr: error: ")
    as_json = in_process(capsys, *argv, "--json")
    assert as_json.code == 2
    error = as_json.json()["error"]
    assert set(error) == {"code", "kind", "message"}
    assert error["code"] == 2 and error["kind"] == "usage"


@pytest.mark.parametrize("name", ["Web", "web_1", "1web", "we--b", "a" * 64, "../x", "-web"])
def test_bad_names_exit_2_before_any_file_is_touched(
    workdir: Path, capsys: Capsys, name: str
) -> None:
    for command in ("status", "provision", "destroy", "purge"):
        result = (
            in_process(capsys, command, "--", name)
            if name.startswith("-")
            else (in_process(capsys, command, name))
        )
        assert result.code == 2, result
        assert "^[a-z][a-z0-9]*(-[a-z0-9]+)*$" in result.err
    assert list(workdir.iterdir()) == []


def test_bad_config_exits_2_naming_file_and_key(workdir: Path, capsys: Capsys) -> None:
    config = workdir / "broken.toml"
    config.write_text(
        '[environment]\nname = "web"\n[[provision.steps]]\nname = "x"\ntimeout = "ten"\n'
    )
    result = in_process(capsys, "create", str(config), "--json")
    assert result.code == 2
    message = result.json()["error"]["message"]
    assert "broken.toml" in message and "provision.steps[0]" in message
    assert not (workdir / "data" / "web").exists()
    missing = in_process(capsys, "create", "nowhere.toml")
    assert missing.code == 2 and "nowhere.toml" in missing.err


def test_help_exits_0(workdir: Path, capsys: Capsys) -> None:
    result = in_process(capsys, "--help")
    assert result.code == 0 and "deploy" in result.out
    assert in_process(capsys, "status", "--help").code == 0


# --- exit 6 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        b"garbage\n",
        b'{"schema_version": 1}',
        b"",
        b'{"schema_version": 999, "lineage": "x"}',
    ],
    ids=["garbage", "wrong-shape", "empty", "newer-schema"],
)
def test_damaged_state_file_exits_6_and_is_left_alone(
    web: Path, capsys: Capsys, damage: bytes
) -> None:
    state = web / "data" / "web" / "state.json"
    state.write_bytes(damage)
    for argv in (["status", "web"], ["history", "web"], ["provision", "web"], ["destroy", "web"]):
        result = in_process(capsys, *argv)
        assert result.code == 6, result
        assert "data/web/state.json" in result.err
        assert state.read_bytes() == damage
    as_json = in_process(capsys, "status", "web", "--json")
    assert as_json.json()["error"]["kind"] == "unreadable"
    listed = in_process(capsys, "list", "--json")
    assert listed.code == 0
    [entry] = listed.json()
    assert entry["name"] == "web" and entry["state"] is None and entry["error"]
    assert "unreadable" in in_process(capsys, "list").out
    if b"999" in damage:
        assert "999" in as_json.json()["error"]["message"]


# --- exit 7 -----------------------------------------------------------------------------


def test_storage_failure_exits_7(workdir: Path, capsys: Capsys) -> None:
    (workdir / "data").write_text("a file where the data folder should be")
    result = in_process(capsys, "create", str(full_config(workdir)))
    assert result.code == 7, result
    assert "data" in result.err
    as_json = in_process(capsys, "create", str(full_config(workdir)), "--json")
    assert as_json.json()["error"]["kind"] == "storage"


def test_traces_folder_that_cannot_be_made_exits_7(web: Path, capsys: Capsys) -> None:
    """A storage failure while a phase starts (its trace file) is exit 7, not a crash (70)."""
    (web / "data" / "web" / "traces").write_text("a file where the traces folder should be")
    before = (web / "data" / "web" / "state.json").read_bytes()
    result = in_process(capsys, "provision", "web")
    assert result.code == 7, result
    assert "traces" in result.err
    assert "left intact" not in result.err  # nothing was written, but it says only what is so
    # The trace is opened before the first save: the state did not move, nothing to recover.
    assert (web / "data" / "web" / "state.json").read_bytes() == before


def test_diagram_to_an_unwritable_file_exits_7(workdir: Path, capsys: Capsys) -> None:
    result = in_process(capsys, "diagram", "-o", str(workdir / "no" / "such" / "dir.mmd"))
    assert result.code == 7, result


# --- exit 70 and -v ---------------------------------------------------------------------


def test_internal_error_exits_70_and_logs_the_traceback(
    web: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> int:
        raise RuntimeError("a bug on purpose")

    monkeypatch.setattr(statemgr.cli.reading, "status", broken)
    result = in_process(capsys, "status", "web")
    assert result.code == 70
    log = web / "logs" / "statemgr.log"
    assert str(log) in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 2
    assert "RuntimeError: a bug on purpose" in log.read_text()
    assert "Traceback" in log.read_text()
    verbose = in_process(capsys, "status", "web", "-v", "--json")
    assert verbose.code == 70
    assert "Traceback" in verbose.err
    assert verbose.json()["error"]["kind"] == "internal"


def test_verbose_shows_tracebacks_of_errors(workdir: Path, capsys: Capsys) -> None:
    quiet = in_process(capsys, "status", "ghost")
    assert "Traceback" not in quiet.err
    verbose = in_process(capsys, "status", "ghost", "-v")
    assert verbose.code == 5
    assert "Traceback" in verbose.err and "EnvironmentNotFound" in verbose.err


def test_verbose_logs_debug_lines_on_stderr(web: Path, capsys: Capsys) -> None:
    result = in_process(capsys, "provision", "web", "-v")
    assert result.code == 0
    assert "DEBUG" in result.err and "step provision_it started" in result.err


# --- -q, terminals, NO_COLOR -------------------------------------------------------------


def test_quiet_silences_progress_but_not_errors(workdir: Path, capsys: Capsys) -> None:
    config = write_config(workdir, "web", provision=[ok_step("fine")], configure=[
        {"name": "boom", "run": ["false"]}])  # fmt: skip
    in_process(capsys, "create", str(config))
    done = in_process(capsys, "-q", "provision", "web")
    assert done.code == 0 and done.err == ""
    failed = in_process(capsys, "configure", "web", "-q")
    assert failed.code == 1
    assert failed.err.startswith("statemgr: error: environment 'web'")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_on_terminal(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str]:
    terminal = Terminal()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", terminal)
        code = main(list(argv))
    return code, terminal.getvalue()


def test_live_timer_and_colours_on_a_terminal(
    workdir: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(workdir, "web", provision=[{"name": "nap", "run": ["sleep", "0.35"]}])
    in_process(capsys, "create", str(config))
    code, err = run_on_terminal(monkeypatch, "provision", "web")
    assert code == 0
    assert "\r\x1b[K[1/1] provision: nap ... 0." in err  # the timer rewrote the line
    assert "\x1b[32mok\x1b[0m" in err


def test_no_color_on_a_terminal(
    workdir: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(workdir, "web", provision=[{"name": "nap", "run": ["sleep", "0.25"]}])
    in_process(capsys, "create", str(config))
    monkeypatch.setenv("NO_COLOR", "1")
    code, err = run_on_terminal(monkeypatch, "provision", "web", "--workdir", str(workdir))
    assert code == 0
    assert "\r" in err  # still live: NO_COLOR is about colour only
    assert "\x1b[3" not in err and "\x1b[1m" not in err


def test_status_json_has_exactly_the_contract_keys(web: Path, capsys: Capsys) -> None:
    document = json.loads(in_process(capsys, "status", "web", "--json").out)
    assert set(document) == STATUS_KEYS
