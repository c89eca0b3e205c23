"""docs/architecture.md says which way imports point; this checks every import against it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .session import REPOSITORY

# Each layer and the layers it may import (docs/architecture.md, "The layers").
BASE = {
    "statemgr.errors",
    "statemgr.hints",
    "statemgr.layout",
    "statemgr.safe_paths",
    "statemgr.log",
    "machines.names",
}
ALLOWED: dict[str, set[str]] = {
    "machines.names": set(),
    "machines.transitions_generated": set(),
    "machines": {"machines.names"},
    "machines.table": {"machines.names", "machines.lifecycle", "machines.transitions_generated"},
    "machines.lifecycle": {"machines.names", "machines.table", "statemgr.errors"},
    "statemgr.errors": {"statemgr.hints"},
    "statemgr.hints": set(),
    "statemgr.layout": set(),
    "statemgr.safe_paths": {"statemgr.errors"},
    "statemgr.log": set(),
    "statemgr": set(),
    "statemgr.model": {"machines.names", "machines.table", "statemgr.errors", "statemgr.hints"},
    "statemgr.serialization": {"statemgr.model", "statemgr.errors"},
    "statemgr.store": {"statemgr.model", "statemgr.serialization", *BASE},
    "statemgr.runners": {"statemgr.model", *BASE},
    "statemgr.config": {"statemgr.model", *BASE},
    "statemgr.diagram": {"machines.names", "machines.table", "statemgr.errors"},
    "statemgr.demo": {"statemgr.model", "statemgr.runners", *BASE},
    "statemgr.service": {
        "machines.lifecycle",
        "machines.table",
        "statemgr.model",
        "statemgr.serialization",
        "statemgr.store",
        "statemgr.runners",
        "statemgr.config",
        *BASE,
    },
    "statemgr.api": {"statemgr", "statemgr.model", "statemgr.runners", "statemgr.service", *BASE},
    "statemgr.__main__": {"statemgr.cli"},  # the `statemgr` command itself
}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] not in ("statemgr", "machines"):
        return None
    return ".".join(parts[:2])


def imports() -> list[tuple[str, str, str]]:
    """(file, its layer, the layer it imports) for every import between layers."""
    found = []
    for root in ("statemgr", "machines"):
        for path in sorted((REPOSITORY / root).rglob("*.py")):
            relative = path.relative_to(REPOSITORY)
            parts = relative.with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            source = layer_of(module)
            assert source is not None
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    target = layer_of(name)
                    if target is not None and target != source:
                        found.append((str(relative), source, target))
    return found


def test_imports_point_the_way_the_architecture_says() -> None:
    wrong = [
        f"{path}: {source} imports {target}"
        for path, source, target in imports()
        if source != "statemgr.cli" and target not in ALLOWED.get(source, set())
    ]
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_nothing_imports_the_cli() -> None:
    users = [
        path
        for path, source, target in imports()
        if target == "statemgr.cli" and source != "statemgr.__main__"
    ]
    assert users == [], users


def test_every_layer_is_known() -> None:
    layers = {source for _path, source, _target in imports()}
    for path in Path(REPOSITORY / "statemgr").iterdir():
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            layers.add(layer_of(f"statemgr.{path.stem}") or "")
    unknown = layers - set(ALLOWED) - {"statemgr.cli", "statemgr.__init__"}
    assert not unknown, f"layers missing from docs/architecture.md and this test: {unknown}"


COMMAND_WORDS = (
    "create|validate|provision|configure|release|run|deploy|destroy|status|list|history|logs|"
    "recover|purge|diagram|demo|redeploy|check|output|update|store"
)
WRITTEN_COMMAND = re.compile(rf"(?<![\w/.-])statemgr ({COMMAND_WORDS})\b")
# The grammar's own help and examples; the one function that makes suggestions.
WORDING_ALLOWED = {"statemgr/cli/parser.py", "statemgr/hints.py"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_every_suggested_command_goes_through_suggest() -> None:
    """A command statemgr tells a person to run is made by ``statemgr.hints.suggest``, so
    that it carries --workdir (and what else it needs) when pasted where they are."""
    written = []
    for path in sorted((REPOSITORY / "statemgr").rglob("*.py")):
        relative = path.relative_to(REPOSITORY).as_posix()
        if relative in WORDING_ALLOWED or relative.startswith("statemgr/demo/files/"):
            continue  # (the demo's own files speak of "the statemgr demo")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and id(node) not in skip and WRITTEN_COMMAND.search(text):
                written.append(f"{relative}:{node.lineno}: {text!r}")
    assert not written, "use statemgr.hints.suggest for these:\n" + "\n".join(written)
