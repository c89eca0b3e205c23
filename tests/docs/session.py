"""Running a document's examples in order, in one temporary folder of its own.

- ``console`` blocks: each ``$`` command runs in bash, in the session's current folder (a
  ``cd`` carries over to the next command, nothing else does), with the installed
  ``statemgr`` first on PATH; its stdout and stderr together are compared with the output
  shown (see ``matching``), and its exit status with ``# exit code N`` (default 0). A
  command that uses jq is skipped, and noted, when jq is not installed.
- ``python`` blocks run in one namespace per document, in the session's current folder;
  ``pycon`` blocks run as doctests (ELLIPSIS, NORMALIZE_WHITESPACE) in the same namespace.
- ``toml`` blocks are environment configs: one with ``<!-- file: X -->`` is written to X
  and, unless marked ``invalid``, loaded with ``statemgr.config.load_config``; one without
  is loaded as it is, a fragment (no ``[environment]``) after a minimal ``[environment]``.
- ``json`` blocks must parse; ``mermaid`` blocks must be ``statemgr.diagram.render("mermaid")``;
  ``text`` blocks are prose; ``sh`` blocks must be marked ``not-run`` (or ``file``).
"""

from __future__ import annotations

import contextlib
import doctest
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .markdown import Block, Command, DocumentError, parse_commands
from .matching import explain, matches, tidy_actual

REPOSITORY = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STATEMGR = BIN / "statemgr"
SIMULATION = Path(__file__).resolve().parent / "simulate"
COMMAND_TIMEOUT = 60
USES_JQ = re.compile(r"(^|[|;&(]\s*)jq\b")
SIMULATE = re.compile(r"^full-disk(?: after (\d+))?$")
TEXT_ONLY = frozenset({"text"})
NOT_RUN_ONLY = frozenset({"sh", "bash", "shell"})


class ExampleFailed(AssertionError):
    """An example whose real behaviour differs from what the docs show."""


@dataclass
class Session:
    """One document's run: its folder, current folder, Python namespace and notes."""

    root: Path
    cwd: Path
    namespace: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    record: bool = False  # print what differs instead of failing (tests/docs/record.py)
    recorded: list[tuple[Command, list[str]]] = field(default_factory=list)
    environ: dict[str, str] | None = None  # os.environ as the document's Python left it

    @classmethod
    def start(cls, root: Path) -> Session:
        root = root.resolve()
        return cls(root=root, cwd=root, namespace={"__name__": "__docs__"})

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    # --- blocks -------------------------------------------------------------------------

    def run_block(self, block: Block) -> None:
        markers = block.markers
        if "not-run" in markers:
            if not markers["not-run"].strip():
                raise DocumentError(f"{block.where}: 'not-run' needs a reason")
            self.count("not-run")
            return
        if "file" in markers:
            self.write_file(block)
            return
        if block.lang == "console":
            self.run_console(block)
        elif block.lang == "python":
            self.run_python(block)
        elif block.lang == "pycon":
            self.run_pycon(block)
        elif block.lang == "toml":
            self.check_config_text(block)
        elif block.lang == "json":
            self.check_json(block)
        elif block.lang == "mermaid":
            self.check_mermaid(block)
        elif block.lang in TEXT_ONLY:
            self.count("text")
        elif block.lang in NOT_RUN_ONLY:
            raise DocumentError(
                f"{block.where}: a ```{block.lang} block is not run; use ```console with "
                "'$ ' commands, or mark it <!-- not-run: REASON -->"
            )
        else:
            raise DocumentError(f"{block.where}: no rule for a block of {block.lang or 'no'} type")

    def write_file(self, block: Block) -> None:
        name, _, same_as = block.markers["file"].partition(", same as ")
        target = self.cwd / name.strip()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
        self.count("file")
        if same_as:
            original = REPOSITORY / same_as.strip()
            if not original.is_file() or original.read_text(encoding="utf-8") != block.text:
                raise ExampleFailed(f"{block.where}: the block differs from {same_as.strip()}")
        if block.lang == "python":
            compile(block.text, block.where, "exec")
        if block.lang == "toml" and "invalid" not in block.markers:
            if "[environment]" in block.text:
                self.load_config(target, block)
            else:
                tomllib.loads(block.text)

    # --- console ------------------------------------------------------------------------

    def run_console(self, block: Block) -> None:
        environment = self.environment(block)
        for command in parse_commands(block):
            if USES_JQ.search(command.text) and shutil.which("jq") is None:
                self.skipped.append(f"{block.path.name}:{command.line}: {command.text}")
                continue
            self.run_command(block, command, environment)
            self.count("command")

    def environment(self, block: Block) -> dict[str, str]:
        environment = dict(os.environ)
        for variable in ("STATEMGR_WORKDIR", "PYTHONPATH", "CDPATH", "BASH_ENV", "ENV"):
            environment.pop(variable, None)
        environment.update(
            PATH=f"{BIN}{os.pathsep}{environment.get('PATH', os.defpath)}",
            NO_COLOR="1",
            COLUMNS="80",
            LC_ALL="C.UTF-8",
        )
        simulate = block.markers.get("simulate")
        if simulate is not None:
            wanted = SIMULATE.match(simulate.strip())
            if wanted is None:
                raise DocumentError(f"{block.where}: unknown simulation {simulate!r}")
            environment["PYTHONPATH"] = str(SIMULATION)
            environment["STATEMGR_DOCS_FULL_DISK_AFTER"] = wanted.group(1) or "0"
        return environment

    def run_command(self, block: Block, command: Command, environment: dict[str, str]) -> None:
        where_file = self.root.parent / f".{self.root.name}.cwd"
        script = f'{command.text}\n__status=$?\npwd > "{where_file}"\nexit $__status\n'
        try:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-c", script],
                cwd=self.cwd,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            raise ExampleFailed(
                f"{block.path.name}:{command.line}: `{command.text}` did not finish within "
                f"{COMMAND_TIMEOUT}s; output so far:\n{_text(expired.output)}"
            ) from None
        with contextlib.suppress(FileNotFoundError):
            self.cwd = Path(where_file.read_text().strip())
            where_file.unlink()
        actual = tidy_actual(_text(done.stdout), str(self.root))
        problems = []
        if done.returncode != command.exit_code:
            problems.append(f"exit status {done.returncode}, the docs say {command.exit_code}")
        if not matches(command.expected, actual):
            problems.append("the output differs:\n" + explain(command.expected, actual))
        if problems and self.record:
            self.recorded.append((command, actual))
            print(f"--- {block.path.name}:{command.line} (exit {done.returncode})")
            print(f"$ {command.text}")
            print("\n".join(actual))
        elif problems:
            raise ExampleFailed(
                f"{block.path.name}:{command.line}: `{command.text}`: " + "; ".join(problems)
            )

    # --- python -------------------------------------------------------------------------

    @contextlib.contextmanager
    def in_folder(self) -> Iterator[None]:
        """The session's folder and environment variables, for the length of a block.

        What a block changes in ``os.environ`` carries over to the document's next
        Python block, and is undone for the test process afterwards.
        """
        before = Path.cwd()
        saved = dict(os.environ)
        if self.environ is not None:
            os.environ.clear()
            os.environ.update(self.environ)
        os.chdir(self.cwd)
        try:
            yield
        finally:
            os.chdir(before)
            self.environ = dict(os.environ)
            os.environ.clear()
            os.environ.update(saved)

    def run_python(self, block: Block) -> None:
        code = compile(block.text, f"{block.path.name}:{block.line}", "exec")
        with self.in_folder():
            try:
                exec(code, self.namespace)
            except Exception as error:
                raise ExampleFailed(
                    f"{block.where}: the example raised {type(error).__name__}: {error}"
                ) from error
        self.count("python")

    def run_pycon(self, block: Block) -> None:
        parser = doctest.DocTestParser()
        test = parser.get_doctest(
            block.text, self.namespace, block.where, str(block.path), block.line
        )
        runner = doctest.DocTestRunner(
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
        )
        report: list[str] = []
        with self.in_folder():
            runner.run(test, out=report.append, clear_globs=False)
        self.namespace.update(test.globs)  # a DocTest runs in a copy of the namespace
        if runner.failures:
            raise ExampleFailed(f"{block.where}: doctest failed\n" + "".join(report))
        self.count("pycon")

    # --- configs, JSON, diagrams --------------------------------------------------------

    def check_config_text(self, block: Block) -> None:
        text = block.text
        if not re.search(r"^\[environment\]", text, re.MULTILINE):
            text = '[environment]\nname = "fragment"\n\n' + text
        target = self.cwd / f".docs-{block.path.stem}-{block.line}.toml"
        target.write_text(text, encoding="utf-8")
        try:
            self.load_config(target, block)
        finally:
            target.unlink()
        self.count("toml")

    def load_config(self, path: Path, block: Block) -> None:
        from statemgr.config import load_config
        from statemgr.errors import ConfigError

        try:
            load_config(path)
        except ConfigError as error:
            raise ExampleFailed(f"{block.where}: the config is not valid: {error}") from None

    def check_json(self, block: Block) -> None:
        try:
            json.loads(block.text)
        except json.JSONDecodeError as error:
            raise ExampleFailed(f"{block.where}: not valid JSON: {error}") from None
        self.count("json")

    def check_mermaid(self, block: Block) -> None:
        from statemgr.diagram import render

        if block.text != render("mermaid"):
            raise ExampleFailed(
                f"{block.where}: the diagram differs from `statemgr diagram --format mermaid`; "
                "regenerate it with: .venv/bin/python tests/docs/update_diagram.py"
            )
        self.count("mermaid")


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")
