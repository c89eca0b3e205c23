"""Human-readable text for status, list and history (pure: data in, lines out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from statemgr.hints import suggest

Paint = Callable[[str, str], str]
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # a value is shown, never obeyed


def _plain(text: str, _style: str) -> str:
    return text


def when(iso: str | None) -> str:
    """``2026-11-29 14:00:00 CET``: the local time, to the second (JSON keeps the ISO time)."""
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()


def age(iso: str | None, now: datetime | None = None) -> str:
    """``2026-11-29 14:00:00 CET (3 min ago)``: the local time and how long ago it was."""
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{when(iso)} ({seconds // size} {unit} ago)"
    return f"{when(iso)} ({seconds} s ago)"


def status_lines(report: dict[str, Any], paint: Paint = _plain) -> list[str]:
    """The status of one environment, from its status JSON (``StatusReport.to_json()``)."""
    state_style = "red" if report["is_failed"] else "green"
    if report["in_progress"] or report["interrupted"]:
        state_style = "yellow"
    lines = [
        f"{paint(report['name'], 'bold')}: "
        f"{paint(report['state_display'], state_style + '+bold')} ({report['state']})",
        f"  details:  {report['details']}",
        f"  since:    {age(report['since'])}",
    ]
    lines += _failure_lines(report["failure"], paint)
    lock = report["lock"]
    if lock is not None and lock["pid"] is None:
        lines.append(
            f"  {paint('in progress', 'yellow')}: held by an unknown process "
            "(it wrote no holder record: another tool's lock?)"
        )
    elif lock is not None:
        lines.append(
            f"  {paint('in progress', 'yellow')}: '{lock['command']}' holds it "
            f"(pid {lock['pid']} on {lock['host']}, since {when(lock['since'])})"
        )
    elif report["interrupted"]:
        lines.append(
            f"  {paint('interrupted', 'yellow')}: a command stopped without finishing "
            "and no live command holds it"
        )
    lines += _output_lines(report.get("outputs") or {})
    allowed = ", ".join(report["allowed_commands"]) or "none"
    lines.append(f"  allowed:  {allowed}")
    if report["next_steps"]:
        lines.append("next steps:")
        lines += [f"  - {step}" for step in report["next_steps"]]
    return lines


def _failure_lines(failure: dict[str, Any] | None, paint: Paint) -> list[str]:
    if failure is None:
        return []
    exit_code = failure["exit_code"]
    code = f", exit code {exit_code}" if exit_code is not None else ""
    lines = [
        f"  {paint('failure', 'red')}:  {failure['phase']} failed at step "
        f"'{failure['failed_step']}' ({failure['error_kind']}{code}) "
        f"at {when(failure['failed_at'])}"
    ]
    message = " ".join(str(failure["message"]).split())
    if message:
        lines.append(f"  message:  {message}")
    if failure["trace_file"]:
        lines.append(f"  trace:    {failure['trace_file']}")
    return lines


def _output_lines(outputs: dict[str, str]) -> list[str]:
    """``outputs:  KEY=VALUE``, one a line; a multi-line value shows its first line."""
    lines = []
    for index, (key, value) in enumerate(sorted(outputs.items())):
        label = "outputs:" if index == 0 else ""
        first, _, rest = value.partition("\n")
        extra = rest.count("\n") + 1
        more = f" (+{extra} more line{'s' if extra != 1 else ''})" if rest else ""
        lines.append(f"  {label:<9} {key}={_CONTROLS.sub('?', first)}{more}")
    return lines


def outputs_text(outputs: dict[str, str]) -> str:
    """``KEY=VALUE`` lines, sorted by key; a multi-line value as ``KEY<<EOF`` ... ``EOF``
    (another delimiter when a line of the value is ``EOF``): what $STATEMGR_OUTPUT reads."""
    text = []
    for key, value in sorted(outputs.items()):
        if "\n" not in value:
            text.append(f"{key}={value}\n")
            continue
        lines = value.split("\n")
        delimiter, number = "EOF", 1
        while delimiter in lines:
            number += 1
            delimiter = f"EOF{number}"
        text.append(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)]
        return "  ".join(padded).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def list_lines(entries: Sequence[dict[str, Any]]) -> list[str]:
    """The ``list`` table, from the list entries' JSON."""
    if not entries:
        return [
            f"no environments here (to create one from a config file: {suggest('create --help')})"
        ]
    rows = []
    for entry in entries:
        if "error" in entry:
            note = f"unreadable: {entry['error']}"
        elif entry["in_progress"]:
            note = "in progress"
        elif entry["interrupted"]:
            note = "interrupted (" + suggest("recover " + entry["name"]) + ")"
        else:
            note = ""
        rows.append([entry["name"], entry["state"] or "?", when(entry["updated_at"]), note])
    return table(["NAME", "STATE", "UPDATED", "NOTE"], rows)


def history_lines(entries: Sequence[dict[str, Any]]) -> list[str]:
    """The ``history`` table, oldest first, from the transitions' JSON."""
    rows = [
        [
            when(entry["at"]),
            entry["from"] or "-",
            entry["to"],
            entry["event"],
            entry["command"],
            str(entry["pid"]),
            entry["host"],
            entry.get("failed_step") or "",
        ]
        for entry in entries
    ]
    return table(["AT", "FROM", "TO", "EVENT", "COMMAND", "PID", "HOST", "FAILED STEP"], rows)
