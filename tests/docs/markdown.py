"""The fenced blocks of a Markdown document, with the markers that say what to do with them.

A marker is an HTML comment on its own line right before a block (blank lines between are
fine, text is not). It is invisible on a code host and plain in the source:

    <!-- not-run: REASON -->            do not run or check this block; say why
    <!-- file: PATH -->                 write the block to PATH (relative to the session's
                                        current folder) instead of running it
    <!-- file: PATH, same as FILE -->   ... and FILE (relative to the repository) must hold
                                        exactly the same text (for docs/examples/)
    <!-- invalid: REASON -->            a config written with `file:` that is wrong on
                                        purpose, so the harness does not validate it
    <!-- simulate: full-disk -->        run a console block with every write of a state
    <!-- simulate: full-disk after N -->  file failing with ENOSPC (after N good writes)

Console blocks hold commands (``$ ...``, continued by a trailing backslash) each followed
by the output it prints; a command that must end with another exit status than 0 says so
in a trailing shell comment, ``# exit code N``, which a shell ignores when it is copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```([A-Za-z0-9_-]*)\s*$")
INDENTED_FENCE = re.compile(r"^\s+```")
MARKER = re.compile(r"^<!--\s*([A-Za-z][\w-]*)(?::\s*(.*?))?\s*-->\s*$")
MARKERS = frozenset({"not-run", "file", "invalid", "simulate"})
EXIT_CODE = re.compile(r"\s#\s*exit code (\d+)\s*$")
PROMPT = "$ "


class DocumentError(Exception):
    """A document the harness cannot read as intended (an unclosed fence, a stray marker)."""


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts, its info string, its text, its markers."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


@dataclass(frozen=True)
class Command:
    """One ``$`` line of a console block and the output shown after it."""

    line: int  # 1-based line in the document
    text: str  # the shell command, continuation lines joined with newlines
    exit_code: int
    expected: tuple[str, ...]


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` in order, each with the markers placed before it."""
    return parse_blocks(path.read_text(encoding="utf-8"), path)


def parse_blocks(text: str, path: Path) -> list[Block]:
    lines = text.splitlines()
    found: list[Block] = []
    pending: dict[str, str] = {}
    pending_line = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.match(line)
        if marker is not None:
            keyword, value = marker.group(1), marker.group(2) or ""
            if keyword not in MARKERS:
                raise DocumentError(f"{path.name}:{index + 1}: unknown marker {keyword!r}")
            if keyword in pending:
                raise DocumentError(f"{path.name}:{index + 1}: marker {keyword!r} given twice")
            pending[keyword] = value
            pending_line = pending_line or index + 1
            index += 1
            continue
        if INDENTED_FENCE.match(line):
            raise DocumentError(f"{path.name}:{index + 1}: indented fences are not supported")
        fence = FENCE.match(line)
        if fence is None:
            if line.strip() and pending:
                raise DocumentError(
                    f"{path.name}:{pending_line}: a marker must come right before a code block"
                )
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index] != "```":
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise DocumentError(f"{path.name}:{start + 1}: the fence is never closed")
        content = "\n".join(body) + "\n" if body else ""
        found.append(Block(path, start + 1, fence.group(1), content, pending))
        pending, pending_line = {}, 0
        index += 1
    if pending:
        raise DocumentError(f"{path.name}:{pending_line}: a marker at the end, before no block")
    return found


def parse_commands(block: Block) -> list[Command]:
    """The commands of a console block, with their expected output and exit code."""
    lines = block.text.splitlines()
    if not lines or not lines[0].startswith(PROMPT):
        raise DocumentError(f"{block.where}: a console block starts with a '$ ' command")
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        line_number = block.line + 1 + index
        text = lines[index][len(PROMPT) :]
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text += "\n" + lines[index]
        index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith(PROMPT):
            output.append(lines[index].rstrip())
            index += 1
        while output and not output[-1]:
            output.pop()
        code = EXIT_CODE.search(text)
        commands.append(
            Command(line_number, text, int(code.group(1)) if code else 0, tuple(output))
        )
    return commands
