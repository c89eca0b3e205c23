"""The docs are tested: every example runs, and the references keep up with the code.

Each document (README.md and docs/*.md) runs its blocks in order in a folder of its own,
as a reader would type them; see session.py for what each kind of block must do and
matching.py for how output is compared. Regenerate the lifecycle diagram in
docs/deployment.md with ``.venv/bin/python tests/docs/update_diagram.py``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from statemgr.diagram import render

from .markdown import read_blocks
from .session import REPOSITORY, USES_JQ, Session, parse_commands

DOCS = REPOSITORY / "docs"
EXAMPLES = DOCS / "examples"
README = REPOSITORY / "README.md"
# Documents whose examples this harness does not run, and why.
NOT_CHECKED = {
    "performance.md": "written and kept with the benchmarks (bench/); its figures come from there",
}
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test,postgresql]' "
    "&& .venv/bin/python -m pytest -n 2"
)


def documents() -> list[Path]:
    checked = sorted(path for path in DOCS.glob("*.md") if path.name not in NOT_CHECKED)
    return [README, *checked]


def all_documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


# Documents whose examples talk to a PostgreSQL server: they get the tests' throwaway
# cluster through PGHOST, PGPORT, PGUSER and PGDATABASE (and a schema of their own).
NEEDS_POSTGRES = {"postgresql.md"}


@pytest.mark.parametrize("document", documents(), ids=lambda path: path.name)
def test_examples_run_as_shown(
    document: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if document.name in NEEDS_POSTGRES:
        server = request.getfixturevalue("postgres_server")
        request.getfixturevalue("pg_schema")
        monkeypatch.setenv("PGHOST", "127.0.0.1")
        monkeypatch.setenv("PGPORT", str(server.port))
        monkeypatch.setenv("PGUSER", "postgres")
        monkeypatch.setenv("PGDATABASE", "postgres")
    home = tmp_path / "you"
    home.mkdir()
    session = Session.start(home)
    for block in read_blocks(document):
        session.run_block(block)
    assert session.counts, f"{document.name} has no examples"


def test_jq_is_there_for_the_jq_examples() -> None:
    """The jq examples are skipped without jq; this test says so instead of passing."""
    uses = [
        f"{document.name}:{command.line}"
        for document in documents()
        for block in read_blocks(document)
        if block.lang == "console" and "not-run" not in block.markers
        for command in parse_commands(block)
        if USES_JQ.search(command.text)
    ]
    assert uses, "the docs show jq; expected at least one jq example"
    if shutil.which("jq") is None:
        pytest.skip(f"jq is not installed: {len(uses)} jq examples not checked ({uses})")


def test_diagram_in_deployment_md_is_the_generated_one() -> None:
    diagrams = [block for block in read_blocks(DOCS / "deployment.md") if block.lang == "mermaid"]
    assert len(diagrams) == 1, "docs/deployment.md shows the lifecycle in one ```mermaid block"
    assert diagrams[0].text == render("mermaid"), (
        "the diagram in docs/deployment.md differs from `statemgr diagram --format mermaid`; "
        "regenerate it with: .venv/bin/python tests/docs/update_diagram.py"
    )


def test_example_configs_are_valid(tmp_path: Path) -> None:
    """Each docs/examples/*.toml loads, next to stand-in files for the SSH keys it names."""
    import tomllib

    from statemgr.config import load_config

    configs = sorted(EXAMPLES.glob("*.toml"))
    assert configs
    for config in configs:
        copy = tmp_path / config.name
        shutil.copy(config, copy)
        ssh = tomllib.loads(config.read_text(encoding="utf-8")).get("ssh", {})
        for key in ("private_key", "public_key"):
            if key in ssh:
                (tmp_path / ssh[key]).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / ssh[key]).touch()
        load_config(copy)


def test_every_example_file_is_shown_in_the_docs() -> None:
    shown = {
        block.markers["file"].partition(", same as ")[2].strip()
        for document in documents()
        for block in read_blocks(document)
        if "file" in block.markers
    }
    for example in sorted(EXAMPLES.iterdir()):
        relative = example.relative_to(REPOSITORY).as_posix()
        assert relative in shown, f"{relative} is not shown by any document (`same as`)"


def test_readme_has_the_ci_test_command() -> None:
    ci = (REPOSITORY / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in ci.splitlines()
    assert TEST_COMMAND in README.read_text(encoding="utf-8").splitlines()


# --- links ---------------------------------------------------------------------------------

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of ``path``."""
    found = set()
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = not inside
        elif not inside and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            found.add(slug)
    return found


def test_links_between_documents_resolve() -> None:
    for document in all_documents():
        text = re.sub(r"^```.*?^```", "", document.read_text(encoding="utf-8"), flags=re.S | re.M)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (document.parent / file_part).resolve() if file_part else document
            assert linked.exists(), f"{document.name}: link to missing {target}"
            if anchor:
                assert anchor in anchors(linked), f"{document.name}: no heading for {target}"


def test_index_maps_every_document() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for document in sorted(DOCS.glob("*.md")):
        if document.name != "index.md":
            assert f"({document.name})" in index, f"docs/index.md does not link {document.name}"


# --- the references keep up with the code -------------------------------------------------


def test_cli_reference_names_every_command_option_and_exit_code() -> None:
    import argparse

    from statemgr.cli.parser import HANDLERS, build_parser

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in HANDLERS:
        assert f"### `statemgr {command}" in text, f"cli.md has no section for {command}"
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, sub in subparsers.choices.items():
        for action in sub._actions:
            for option in action.option_strings:
                assert f"`{option}" in text, f"cli.md does not describe {command} {option}"
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 70, 130, 143):
        assert re.search(rf"^\| {code} \|", text, re.M), f"cli.md has no row for exit code {code}"


def test_cli_reference_names_every_error_kind() -> None:
    from statemgr import errors
    from statemgr.model import ErrorKind

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    kinds = {
        value.kind
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.StatemgrError)
    }
    for kind in sorted(kinds | {kind.value for kind in ErrorKind}):
        assert f"`{kind}`" in text, f"cli.md does not explain the kind {kind}"


def test_config_reference_names_every_key_placeholder_and_variable() -> None:
    from statemgr.config import SSH_KEYS, TOP_LEVEL_KEYS
    from statemgr.config.steps import KNOWN_PLACEHOLDERS, STEP_KEYS

    text = (DOCS / "config.md").read_text(encoding="utf-8")
    for key in (*TOP_LEVEL_KEYS, *SSH_KEYS, *STEP_KEYS):
        assert f"`{key}`" in text or f"[{key}]" in text, f"config.md does not describe {key}"
    for placeholder in KNOWN_PLACEHOLDERS:
        assert f"`{{{placeholder}}}`" in text, f"config.md does not describe {{{placeholder}}}"
    for variable in step_variable_names():
        assert f"`{variable}`" in text, f"config.md does not describe {variable}"


def step_variable_names() -> list[str]:
    """The STATEMGR_* variables a step gets, asked of the runner itself."""
    from statemgr.layout import Layout
    from statemgr.model import Environment, Step
    from statemgr.runners import StepContext, step_environment

    environment = Environment.new("web")
    context = StepContext.create(
        environment, Layout("/w"), "provision", Step("s", run=("true",)), Path("/t")
    )
    return sorted(name for name in step_environment(context) if name.startswith("STATEMGR_"))


def test_state_file_reference_names_every_field() -> None:
    from statemgr.serialization import to_document

    text = (DOCS / "state-file.md").read_text(encoding="utf-8")
    keys: set[str] = set()

    def collect(value: object, inside_env: bool = False) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if not inside_env:
                    keys.add(key)
                collect(item, inside_env=key == "env")
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(to_document(full_snapshot()))
    for key in sorted(keys):
        assert f"`{key}`" in text, f"state-file.md does not describe the field {key}"


def full_snapshot() -> object:
    """A snapshot in which every optional part of the format is present."""
    import attrs

    from statemgr.model import (
        Environment,
        ErrorKind,
        Failure,
        Operation,
        Phase,
        Phases,
        SshCredentials,
        State,
        StateName,
        Step,
        new_snapshot,
        utc_now,
    )

    now = utc_now()
    step = Step("apply", run=("tofu", "apply"), cwd="tofu", timeout=60.0, env={"A": "b"})
    environment = Environment.new(
        "web",
        phases=Phases(provision=(step,), run=(Step("start", call="steps:start"),)),
        ssh=SshCredentials(private_key="/k", public_key="/k.pub"),
        config_file="/web.toml",
    )
    failure = Failure(Phase.provision, "apply", ErrorKind.command_failed, "no", now, now, 1, "t")
    snapshot = new_snapshot(environment, "create", 1, "host")
    snapshot = snapshot.transitioned(
        StateName.provision_failed, "provision_failed", "provision", 2, "host", failure=failure
    )
    return attrs.evolve(
        snapshot,
        state=State(StateName.provision_failed, failure),
        operation=Operation("destroy", Phase.destroy, 3, "host", now, "apply"),
        destroy_failure=failure,
        outputs={"host": "10.0.0.5"},
    )
