"""How live step output is cut into lines: bounded whatever a step prints."""

from __future__ import annotations

from pathlib import Path

from statemgr.runners.output import KEEP, MAX_LAG, MAX_LINE, FileTap, LineSplitter


def _collect() -> tuple[list[tuple[str, str]], LineSplitter]:
    seen: list[tuple[str, str]] = []
    return seen, LineSplitter("stdout", lambda stream, line: seen.append((stream, line)))


def test_lines_split_across_pieces_and_a_last_line_without_newline() -> None:
    seen, lines = _collect()
    for piece in (b"one\ntw", b"o\n\nthr", b"ee\xff"):
        lines.feed(piece)
    lines.flush()
    assert [line for _, line in seen] == ["one", "two", "", "three\ufffd"]


def test_an_endless_line_is_shown_once_cut() -> None:
    seen, lines = _collect()
    for _ in range(100):
        lines.feed(b"x" * 10_000)
    lines.feed(b"end of it\nnext\n")
    assert [line for _, line in seen] == ["x" * MAX_LINE + " [...]", "next"]


def test_a_tap_skips_ahead_when_too_much_waits(tmp_path: Path) -> None:
    path = tmp_path / "out"
    seen: list[tuple[str, str]] = []
    tap = FileTap(path, 0, "stderr", lambda stream, line: seen.append((stream, line)))
    tap.pump()  # no file yet: nothing
    path.write_bytes(b"0123456789\n" * (MAX_LAG // 5))
    tap.pump()
    assert seen[0][1].startswith("[... ") and "all of it is in the trace" in seen[0][1]
    assert all(line == "0123456789" for _, line in seen[1:])
    assert len(seen) - 1 <= KEEP // 11
    with path.open("ab") as more:
        more.write(b"last")
    tap.close()
    assert seen[-1] == ("stderr", "last")
