"""Every command through ``main([...])`` in this process: output, JSON shapes, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from statemgr.diagram import render

from .support import (
    FAILURE_KEYS,
    HISTORY_KEYS,
    LIST_KEYS,
    STATUS_KEYS,
    failing_step,
    full_config,
    in_process,
    ok_step,
    write_config,
)

Capsys = pytest.CaptureFixture[str]


def status_json(capsys: Capsys, name: str) -> dict[str, Any]:
    result = in_process(capsys, "status", name, "--json")
    assert result.code == 0, result
    document: dict[str, Any] = result.json()
    return document


def test_create_prints_what_to_do_next(workdir: Path, capsys: Capsys) -> None:
    result = in_process(capsys, "create", str(full_config(workdir)))
    assert result.code == 0, result
    assert "created environment 'web'" in result.out
    assert "statemgr deploy web" in result.out
    assert "statemgr provision web" in result.out
    assert (workdir / "data" / "web" / "state.json").is_file()
    assert (workdir / "build" / "web").is_dir()


def test_each_phase_with_json_prints_the_status(workdir: Path, capsys: Capsys) -> None:
    created = in_process(capsys, "--json", "create", str(full_config(workdir)))
    assert created.code == 0, created
    assert set(created.json()) == STATUS_KEYS
    assert created.json()["state"] == "created"
    for command, state in [
        ("provision", "provisioned"),
        ("configure", "configured"),
        ("release", "released"),
        ("run", "running"),
        ("destroy", "destroyed"),
    ]:
        result = in_process(capsys, command, "web", "--json")
        assert result.code == 0, result
        document = result.json()  # stdout is one JSON document and nothing else
        assert set(document) == STATUS_KEYS
        assert document["state"] == state
        assert f"{command} web" in result.err  # progress still on stderr
        assert (workdir / "build" / "web" / f"{command}_it.txt").is_file()


def test_progress_shows_each_step_n_of_m_elapsed_and_result(workdir: Path, capsys: Capsys) -> None:
    config = write_config(workdir, "web", provision=[ok_step("one"), ok_step("two")])
    in_process(capsys, "create", str(config))
    result = in_process(capsys, "provision", "web")
    assert result.code == 0, result
    lines = result.err.splitlines()
    assert "[1/2] provision: one ..." in lines
    assert any(
        line.startswith("[1/2] provision: one ok (") and line.endswith("s)") for line in lines
    )
    assert any(line.startswith("[2/2] provision: two ok (") for line in lines)
    assert "\r" not in result.err and "\x1b" not in result.err  # not a terminal
    assert "web: Provisioned" in result.out


def test_deploy_runs_every_remaining_phase(workdir: Path, capsys: Capsys) -> None:
    in_process(capsys, "create", str(full_config(workdir)))
    in_process(capsys, "provision", "web")
    result = in_process(capsys, "deploy", "web")
    assert result.code == 0, result
    assert "provision: " not in result.err
    for phase in ("configure", "release", "run"):
        assert f"[1/1] {phase}: {phase}_it ok" in result.err
    again = in_process(capsys, "deploy", "web", "--json")
    assert again.code == 0 and again.json()["state"] == "running"
    assert "already running" in again.err


def test_step_failure_exits_1_and_status_shows_it(workdir: Path, capsys: Capsys) -> None:
    config = write_config(workdir, "web", configure=[ok_step("fine"), failing_step("boom", 3)])
    in_process(capsys, "create", str(config))
    in_process(capsys, "provision", "web")
    result = in_process(capsys, "configure", "web")
    assert result.code == 1
    assert "FAILED (command_failed, exit code 3)" in result.err
    errors = [line for line in result.err.splitlines() if line.startswith(("statemgr:", "hint:"))]
    assert errors[0].startswith("statemgr: error: environment 'web': configure failed")
    assert "boom" in errors[0]
    assert errors[1].startswith("hint: see the trace file data/web/traces/")
    assert "Traceback" not in result.err

    report = status_json(capsys, "web")
    assert report["state"] == "configure_failed"
    failure = report["failure"]
    assert isinstance(failure, dict) and set(failure) == FAILURE_KEYS
    assert failure["failed_step"] == "boom" and failure["exit_code"] == 3
    assert failure["error_kind"] == "command_failed"
    assert (workdir / str(failure["trace_file"])).is_file()

    human = in_process(capsys, "status", "web")
    assert "Configure Failed (configure_failed)" in human.out
    assert "step 'boom' (command_failed, exit code 3)" in human.out
    assert "broken-boom" in human.out
    assert str(failure["trace_file"]) in human.out
    assert "allowed:  configure, deploy, update, destroy" in human.out
    assert "next steps:" in human.out and "statemgr configure web --resume" in human.out


def test_step_failure_with_json_is_an_error_object(workdir: Path, capsys: Capsys) -> None:
    config = write_config(workdir, "web", provision=[failing_step("boom")])
    in_process(capsys, "create", str(config))
    result = in_process(capsys, "--json", "provision", "web")
    assert result.code == 1
    assert result.json() == {
        "error": {"code": 1, "kind": "step_failed", "message": result.json()["error"]["message"]}
    }
    assert "boom" in result.json()["error"]["message"]
    assert "statemgr: error:" in result.err


def test_not_allowed_exits_3_naming_state_and_allowed(workdir: Path, capsys: Capsys) -> None:
    in_process(capsys, "create", str(full_config(workdir)))
    result = in_process(capsys, "configure", "web")
    assert result.code == 3
    assert result.err.splitlines() == [
        "statemgr: error: environment 'web': 'configure' is not allowed in state 'created' "
        "(allowed now: provision, deploy, update, destroy)",
        "hint: run 'statemgr status web' for what to do next",
    ]
    as_json = in_process(capsys, "configure", "web", "--json")
    assert as_json.code == 3 and as_json.json()["error"]["kind"] == "not_allowed"


def test_create_of_an_existing_name_exits_3_with_purge_hint(workdir: Path, capsys: Capsys) -> None:
    config = full_config(workdir)
    in_process(capsys, "create", str(config))
    result = in_process(capsys, "create", str(config))
    assert result.code == 3
    assert "already exists" in result.err and "statemgr purge web" in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "ghost"],
        ["history", "ghost"],
        ["provision", "ghost"],
        ["deploy", "ghost"],
        ["destroy", "ghost"],
        ["recover", "ghost"],
        ["purge", "ghost"],
        ["diagram", "--env", "ghost"],
    ],
)
def test_unknown_environment_exits_5(workdir: Path, capsys: Capsys, argv: list[str]) -> None:
    result = in_process(capsys, *argv)
    assert result.code == 5
    assert "environment 'ghost' does not exist" in result.err
    as_json = in_process(capsys, "--json", *argv)
    assert as_json.json() == {
        "error": {"code": 5, "kind": "not_found", "message": as_json.json()["error"]["message"]}
    }


def test_destroy_of_a_destroyed_environment_says_so(workdir: Path, capsys: Capsys) -> None:
    in_process(capsys, "create", str(full_config(workdir)))
    assert in_process(capsys, "destroy", "web").code == 0
    again = in_process(capsys, "destroy", "web")
    assert again.code == 0
    assert "already destroyed" in again.err
    assert "destroy: destroy_it" not in again.err  # no steps ran again


def test_purge_refuses_unless_destroyed_or_forced(workdir: Path, capsys: Capsys) -> None:
    in_process(capsys, "create", str(full_config(workdir)))
    refused = in_process(capsys, "purge", "web")
    assert refused.code == 3 and "--force" in refused.err
    in_process(capsys, "destroy", "web")
    purged = in_process(capsys, "purge", "web", "--json")
    assert purged.code == 0 and purged.json() == {"name": "web", "purged": True}
    assert not (workdir / "data" / "web").exists()
    assert not (workdir / "build" / "web").exists()
    in_process(capsys, "create", str(full_config(workdir)))
    forced = in_process(capsys, "purge", "--force", "web")
    assert forced.code == 0 and not (workdir / "data" / "web").exists()


def test_list_is_sorted_with_the_contract_keys(workdir: Path, capsys: Capsys) -> None:
    for name in ("zeta", "alpha"):
        in_process(capsys, "create", str(write_config(workdir, name)))
    result = in_process(capsys, "list", "--json")
    assert result.code == 0
    entries = result.json()
    assert [entry["name"] for entry in entries] == ["alpha", "zeta"]
    assert all(set(entry) == LIST_KEYS for entry in entries)
    human = in_process(capsys, "list")
    assert human.out.splitlines()[0].split() == ["NAME", "STATE", "UPDATED", "NOTE"]
    assert human.out.splitlines()[1].startswith("alpha  created")


def test_list_of_an_empty_workspace(workdir: Path, capsys: Capsys) -> None:
    assert in_process(capsys, "list", "--json").json() == []
    assert "no environments" in in_process(capsys, "list").out


def test_history_oldest_first_with_failed_step(workdir: Path, capsys: Capsys) -> None:
    config = write_config(workdir, "web", provision=[failing_step("boom")])
    in_process(capsys, "create", str(config))
    in_process(capsys, "provision", "web")
    entries = in_process(capsys, "history", "web", "--json").json()
    assert entries[0] == {**entries[0], "from": None, "to": "created", "event": "create"}
    assert [entry["event"] for entry in entries] == [
        "create",
        "start_provisioning",
        "provision_failed",
    ]
    assert set(entries[0]) == HISTORY_KEYS
    assert set(entries[-1]) == HISTORY_KEYS | {"failed_step"}
    assert entries[-1]["failed_step"] == "boom"
    human = in_process(capsys, "history", "web").out.splitlines()
    assert human[0].split()[:4] == ["AT", "FROM", "TO", "EVENT"]
    assert human[-1].split()[-1] == "boom"


def test_status_of_a_healthy_environment(workdir: Path, capsys: Capsys) -> None:
    in_process(capsys, "create", str(full_config(workdir)))
    report = status_json(capsys, "web")
    assert report["lock"] is None and report["failure"] is None
    assert report["allowed_commands"] == ["provision", "deploy", "update", "destroy"]
    human = in_process(capsys, "status", "web").out
    assert human.startswith("web: Created (created)")
    assert "since:" in human and "ago)" in human
    assert "statemgr provision web" in human


def test_validate_changes_nothing(workdir: Path, capsys: Capsys) -> None:
    config = full_config(workdir)
    result = in_process(capsys, "validate", str(config))
    assert result.code == 0 and "valid" in result.out
    assert in_process(capsys, "validate", str(config), "--json").json()["name"] == "web"
    assert not (workdir / "data").exists()
    bad = workdir / "bad.toml"
    bad.write_text('[environment]\nname = "web"\n[[provision.steps]]\nname = "Bad Name"\n')
    refused = in_process(capsys, "validate", str(bad))
    assert refused.code == 2
    assert "bad.toml" in refused.err and "provision.steps[0]" in refused.err


def test_diagram_text_formats(workdir: Path, capsys: Capsys) -> None:
    mermaid = in_process(capsys, "diagram")
    assert mermaid.code == 0 and mermaid.out.startswith("stateDiagram-v2")
    target = workdir / "chart.dot"
    dot = in_process(capsys, "diagram", "--format", "dot", "-o", str(target))
    assert dot.code == 0 and dot.out == ""
    assert target.read_text().lstrip().startswith("digraph")
    in_process(capsys, "create", str(full_config(workdir)))
    highlighted = in_process(capsys, "diagram", "--env", "web")
    assert highlighted.code == 0 and highlighted.out != mermaid.out
    as_json = in_process(capsys, "diagram", "--json").json()
    assert as_json == {"format": "mermaid", "diagram": render("mermaid")}
    assert mermaid.out.rstrip("\n") == str(render("mermaid")).rstrip("\n")
    png = in_process(capsys, "diagram", "--format", "png", "--json")
    assert png.code == 2 and "-o FILE" in png.json()["error"]["message"]


def test_diagram_svg_needs_graphviz(workdir: Path, capsys: Capsys) -> None:
    target = workdir / "chart.svg"
    result = in_process(capsys, "diagram", "--format", "svg", "-o", str(target))
    if shutil.which("dot") is None:
        assert result.code == 2 and "graphviz" in result.err
    else:
        assert result.code == 0, result
        assert b"<svg" in target.read_bytes()


def test_log_file_has_one_line_per_transition(workdir: Path, capsys: Capsys) -> None:
    in_process(capsys, "create", str(full_config(workdir)))
    in_process(capsys, "provision", "web")
    log = (workdir / "logs" / "statemgr.log").read_text().splitlines()
    transitions = [line for line in log if "transition " in line]
    assert len(transitions) == 2
    assert "web/provision" in transitions[0] and "created -> provisioning" in transitions[0]
    assert transitions[0][:4].isdigit() and "T" in transitions[0][:11]


def test_reading_commands_write_no_log(workdir: Path, capsys: Capsys) -> None:
    in_process(capsys, "list")
    in_process(capsys, "status", "ghost")
    assert not (workdir / "logs").exists()


def test_json_error_is_the_only_stdout(workdir: Path, capsys: Capsys) -> None:
    result = in_process(capsys, "status", "ghost", "--json")
    assert set(json.loads(result.out)) == {"error"}
    assert set(result.json()["error"]) == {"code", "kind", "message"}
    assert len(result.err.strip().splitlines()) == 1


def test_failed_destroy_keeps_the_state_and_shows_the_failure(
    workdir: Path, capsys: Capsys
) -> None:
    config = write_config(
        workdir, "web", provision=[ok_step("fine")], destroy=[failing_step("teardown", 4)]
    )
    in_process(capsys, "create", str(config))
    in_process(capsys, "provision", "web")
    result = in_process(capsys, "destroy", "web")
    assert result.code == 1
    assert "destroy failed at step 'teardown'" in result.err
    report = status_json(capsys, "web")
    assert report["state"] == "provisioned"
    assert report["failure"]["phase"] == "destroy"
    assert report["failure"]["exit_code"] == 4
    human = in_process(capsys, "status", "web").out
    assert "destroy failed at step 'teardown'" in human
    assert "statemgr destroy web" in human


def test_warnings_of_the_libraries_reach_the_same_log(workdir: Path, capsys: Capsys) -> None:
    """Tried: a Python step that logs a warning through standard logging as portalocker
    and python-statemachine would; both land in logs/statemgr.log during the command."""
    (workdir / "noisy.py").write_text(
        "import logging\n"
        "def step(context):\n"
        "    logging.getLogger('portalocker').warning('lock file looks odd')\n"
        "    logging.getLogger('statemachine').warning('machine says hello')\n"
    )
    config = workdir / "noisy.toml"
    config.write_text(
        '[environment]\nname = "noisy"\n\n[[provision.steps]]\nname = "py"\ncall = "noisy:step"\n'
    )
    assert in_process(capsys, "create", str(config)).code == 0
    assert in_process(capsys, "provision", "noisy").code == 0
    log = (workdir / "logs" / "statemgr.log").read_text()
    assert "portalocker: lock file looks odd" in log
    assert "statemachine: machine says hello" in log


def test_version_prints_the_package_version(capsys: Capsys) -> None:
    from statemgr import __version__

    result = in_process(capsys, "--version")
    assert result.code == 0 and result.out.strip() == f"statemgr {__version__}"
