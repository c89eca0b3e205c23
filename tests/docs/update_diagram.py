"""Rewrite the ```mermaid block of docs/deployment.md from the statechart.

    .venv/bin/python tests/docs/update_diagram.py

The block is ``statemgr diagram --format mermaid`` (``statemgr.diagram.render("mermaid")``);
tests/docs/test_examples.py fails while the committed block differs from it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from statemgr.diagram import render

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
BLOCK = re.compile(r"^```mermaid\n.*?^```$", re.MULTILINE | re.DOTALL)


def updated(text: str) -> str:
    """``text`` with its one mermaid block replaced by the current diagram."""
    found = BLOCK.findall(text)
    if len(found) != 1:
        raise SystemExit(f"{DOCUMENT}: expected one ```mermaid block, found {len(found)}")
    diagram = str(render("mermaid"))
    return BLOCK.sub(lambda _match: f"```mermaid\n{diagram}```", text)


def main() -> int:
    text = DOCUMENT.read_text(encoding="utf-8")
    new = updated(text)
    if new == text:
        print(f"{DOCUMENT}: the diagram is up to date")
        return 0
    DOCUMENT.write_text(new, encoding="utf-8")
    print(f"{DOCUMENT}: diagram rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
