"""``--store`` / STATEMGR_STORE: which store the commands use (contract.md, "(r2) Stores")."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import full_config, in_process

Capsys = pytest.CaptureFixture[str]


def test_file_store_by_name_is_the_default_store(workdir: Path, capsys: Capsys) -> None:
    config = full_config(workdir)
    assert in_process(capsys, "--store", "file", "create", str(config)).code == 0
    assert (workdir / "data" / "web" / "state.json").is_file()
    listed = in_process(capsys, "list", "--json")
    assert [entry["name"] for entry in listed.json()] == ["web"]


@pytest.mark.parametrize("where", ["option", "variable"])
def test_an_unknown_store_exits_2_and_touches_nothing(
    workdir: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    config = full_config(workdir)
    argv = ["--json", "create", str(config)]
    if where == "option":
        argv = ["--store", "s3://bucket", *argv]
    else:
        monkeypatch.setenv("STATEMGR_STORE", "s3://bucket")
    result = in_process(capsys, *argv)
    assert result.code == 2, result
    assert result.json()["error"]["kind"] == "usage"
    assert "unknown store 's3://bucket'" in result.err
    assert not (workdir / "data").exists() and not (workdir / "logs").exists()


def test_the_option_wins_over_the_variable(
    workdir: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEMGR_STORE", "nonsense")
    assert in_process(capsys, "list", "--store", "file").code == 0
    assert in_process(capsys, "list").code == 2


def test_a_password_in_a_refused_store_is_never_shown(workdir: Path, capsys: Capsys) -> None:
    result = in_process(capsys, "--store", "mysql://me:hunter2@db/x", "list")
    assert result.code == 2
    assert "hunter2" not in result.err + result.out
