"""How the output shown in the docs is compared with the output a command really prints.

The docs show output as it was printed on one machine. What differs from run to run is
handled in three ways:

1. Masked on both sides, so the docs may show any real value and it matches any other:
   times (``2026-11-29T13:54:13.705367+00:00``, and ``2026-11-29 13:54:13 UTC`` in the
   local zone), durations (``0.3s``), ages
   (``(3 min ago)``), trace file names (``20261129T135413.680403Z-deploy-69f38c.log``),
   lineage UUIDs and loopback ports (``127.0.0.1:36365``).
2. Placeholders in the docs: ``<PID>`` (a process id), ``<HOST>`` (a host name),
   ``<...>`` (any text within a line), and a line that is only ``...`` (any number of
   lines, none included).
3. The folder a document's examples run in is shown as ``/home/you``: the harness writes
   that in place of its temporary folder. And a run of two or more spaces (a table's
   column gap, an indent) matches any run of two or more spaces.

Lines are compared without trailing spaces; trailing empty lines do not count.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from functools import cache

SHOWN_ROOT = "/home/you"

MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{8}T\d{6}\.\d{6}Z-[A-Za-z0-9_.-]+?-[0-9a-f]{6}\.log"), "<trace>.log"),
    (
        re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:[+-]\d\d:\d\d|Z)"),
        "<time>",
    ),
    (re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Z]{2,5}\b| [+-]\d{4}\b)?"), "<time>"),
    (re.compile(r"\(\d+ ?(?:s|min|h|d|m) ago\)"), "(<age> ago)"),
    (re.compile(r"\b\d+\.\d+s\b"), "<seconds>s"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\b127\.0\.0\.1:\d{1,5}\b"), "127.0.0.1:<port>"),
)

PLACEHOLDERS = {
    "<PID>": r"\d+",
    "<HOST>": r"[A-Za-z0-9][A-Za-z0-9._-]*",
    "<...>": r".*?",
}
_PIECES = re.compile(r"(<PID>|<HOST>|<\.\.\.>| {2,})")
ANY_LINES = "..."

# What a non-interactive bash prints when its command is killed by a signal, and what an
# interactive shell prints instead (the docs show the latter).
_SHELL_SIGNAL_REPORT = re.compile(r"^bash: line \d+: +\d+ (Killed|Terminated)\b.*$")


def mask(line: str) -> str:
    for pattern, replacement in MASKS:
        line = pattern.sub(replacement, line)
    return line


def tidy_actual(text: str, root: str) -> list[str]:
    """The real output as lines: the temp root shown as /home/you, shell reports tidied."""
    lines = [line.rstrip() for line in text.replace(root, SHOWN_ROOT).splitlines()]
    lines = [_SHELL_SIGNAL_REPORT.sub(r"\1", line) for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@cache
def line_pattern(expected: str) -> re.Pattern[str]:
    """The regular expression an expected line stands for (after masking)."""
    parts = []
    for piece in _PIECES.split(mask(expected.rstrip())):
        if piece in PLACEHOLDERS:
            parts.append(PLACEHOLDERS[piece])
        elif piece.startswith("  ") and not piece.strip():
            parts.append(" {2,}")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def line_matches(expected: str, actual: str) -> bool:
    return line_pattern(expected).fullmatch(mask(actual.rstrip())) is not None


def matches(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Whether ``actual`` lines fit the ``expected`` lines (with ``...`` lines as wildcards)."""

    @cache
    def fits(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual)
        if expected[i].strip() == ANY_LINES:
            return any(fits(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and line_matches(expected[i], actual[j]) and fits(i + 1, j + 1)

    return fits(0, 0)


def explain(expected: Sequence[str], actual: Sequence[str]) -> str:
    """A diff of what the docs show against what was printed, for a failing comparison."""
    diff = difflib.unified_diff(
        list(expected), list(actual), "shown in the docs", "printed", lineterm="", n=2
    )
    return "\n".join(diff)
