"""The benchmarks in quick mode: they must run and print every section (not how fast).

This keeps bench/ from rotting as the code it measures changes; the figures of a quick run
mean nothing and are not checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECTIONS = (
    "start-up",
    "durable transitions",
    "history growth",
    "scale (list)",
    "contention",
    "phase overhead",
    "postgresql",
)


@pytest.mark.slow
def test_quick_mode_runs_every_benchmark(tmp_path: Path) -> None:
    """Tried: ``python -m bench --quick`` in a subprocess, scratch under tmp_path: exit 0,
    every section and its table rows printed, the summary table, no scratch left behind,
    docs/performance.md untouched."""
    scratch = tmp_path / "scratch"
    doc = REPO / "docs" / "performance.md"
    before = doc.read_bytes() if doc.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=REPO,
        env={**os.environ, "STATEMGR_BENCH_DIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for title in SECTIONS:
        assert f"\n## {title}\n" in out, f"section {title!r} missing:\n{out[-2000:]}"
        assert f"| {title} | " in out, f"no table row for {title!r}"
    summary = out.split("\n# Summary\n", 1)[1]
    for title in SECTIONS:
        assert f"| {title} | " in summary
    assert "goal(s) missed" in out
    assert list(scratch.iterdir()) == [], "a benchmark left its scratch folder behind"
    assert (doc.read_bytes() if doc.exists() else None) == before


def test_the_markdown_table_has_the_goal_columns() -> None:
    """Tried: a section with a met, a missed and an unjudged row, as a markdown table."""
    sys.path.insert(0, str(REPO))
    try:
        from bench.common import Section, table
    finally:
        sys.path.remove(str(REPO))
    section = Section("demo")
    section.add("fast", "1 ms", "base 2 ms", "0.50x", "< 5 ms", True)
    section.add("slow", "9 ms", "base 2 ms", "4.50x", "< 5 ms", False)
    section.add("info", "3 ms")
    lines = table([section]).splitlines()
    assert lines[0] == "| benchmark | measure | figure | baseline | ratio | goal | met? |"
    assert lines[2].endswith("| < 5 ms | yes |")
    assert lines[3].endswith("| < 5 ms | **no** |")
    assert lines[4] == "| demo | info | 3 ms |  |  |  |  |"
