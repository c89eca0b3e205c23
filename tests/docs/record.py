"""Run a document's examples and print the real output of every command that differs.

    .venv/bin/python -m tests.docs.record docs/troubleshooting.md
    .venv/bin/python -m tests.docs.record --fill docs/troubleshooting.md

For writing docs: put a command in a console block, run this, and paste what it printed
below the command (then put <PID>, <HOST>, <...> or ... where it varies). With --fill,
the output of every command that shows none yet is written into the document.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .markdown import read_blocks
from .session import Session


def record(document: Path, fill: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "you"
        home.mkdir()
        session = Session.start(home)
        session.record = True
        for block in read_blocks(document):
            session.run_block(block)
    print(f"=== {document}: {session.counts}")
    if not fill:
        return
    lines = document.read_text(encoding="utf-8").splitlines()
    for command, actual in sorted(session.recorded, key=lambda item: -item[0].line):
        if command.expected or not actual:
            continue
        after = command.line + command.text.count("\n")
        lines[after:after] = actual
    document.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(arguments: list[str]) -> int:
    fill = "--fill" in arguments
    for name in arguments:
        if name != "--fill":
            record(Path(name), fill)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
