"""Traces in the PostgreSQL store: the steps write a local file, as in the file store, and
the held lock ships its new bytes to the ``traces`` table by offset (at every save, on
every watchdog tick, and when the lock is let go).

A row keeps the first ``HEAD`` bytes and the last ``TAIL`` bytes of a run (1 MiB in all):
``size`` is how long the local file was, ``head`` holds bytes [0, len(head)) and ``tail``
bytes [size - len(tail), size). Read back, a longer trace shows a line saying how many
bytes in the middle were left out.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from statemgr.model.traces import TraceRun, end_line_result, parse_trace_name
from statemgr.safe_paths import open_file

if TYPE_CHECKING:
    from psycopg2 import extensions as pg

HEAD = 256 * 1024
TAIL = 768 * 1024

_SHIP = """
UPDATE {s}.traces SET
  size = %(size)s,
  head = head || %(head)s,
  tail = CASE WHEN %(restart)s THEN %(tail)s
         ELSE substring(tail || %(tail)s
                        FROM greatest(1, length(tail) + %(tail_length)s - %(cap)s + 1))
         END
WHERE name = %(name)s AND run = %(run)s
"""


@attrs.define
class Shipment:
    """One run's local trace file and how much of it is in the database."""

    path: Path
    run: str
    shipped: int = 0  # bytes of the file that are in the row (or were left out)


@attrs.frozen
class Chunk:
    """What to add to a row: bytes for the head, bytes for the tail, the new size."""

    head: bytes
    tail: bytes
    size: int
    restart: bool  # the tail bytes do not follow the stored tail: replace it


def next_chunk(path: Path, shipped: int) -> Chunk | None:
    """The bytes of ``path`` after ``shipped`` that the row keeps, or None when none came."""
    try:
        with open(open_file(path, os.O_RDONLY, str(path)), "rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            if size <= shipped:
                return None
            head_end = min(size, max(shipped, HEAD))
            stream.seek(shipped)
            head = stream.read(head_end - shipped)
            tail_start = max(head_end, size - TAIL)
            stream.seek(tail_start)
            tail = stream.read(size - tail_start)
    except FileNotFoundError:
        return None
    return Chunk(head, tail, shipped + len(head) + (size - head_end), tail_start > head_end)


class Shipper:
    """Ships the new bytes of a lock's traces; safe to call from the watchdog thread."""

    def __init__(self, schema: str, name: str) -> None:
        self.schema = schema
        self.name = name
        self.shipments: list[Shipment] = []
        self._mutex = threading.Lock()

    def add(self, path: Path, run: str) -> None:
        with self._mutex:
            self.shipments.append(Shipment(path, run))

    def ship(self, connection: pg.connection) -> None:
        """Send what was written since the last call (one UPDATE per grown trace)."""
        with self._mutex:
            for shipment in self.shipments:
                self._ship_one(connection, shipment)

    def _ship_one(self, connection: pg.connection, shipment: Shipment) -> None:
        chunk = next_chunk(shipment.path, shipment.shipped)
        if chunk is None:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                _SHIP.format(s=self.schema),
                {
                    "size": chunk.size,
                    "head": chunk.head,
                    "tail": chunk.tail,
                    "tail_length": len(chunk.tail),
                    "restart": chunk.restart,
                    "cap": TAIL,
                    "name": self.name,
                    "run": shipment.run,
                },
            )
        shipment.shipped = chunk.size


def capped(data: bytes) -> tuple[bytes, bytes]:
    """(head, tail) of a whole trace, as a row keeps it."""
    head = data[:HEAD]
    rest = data[len(head) :]
    return head, rest[-TAIL:] if rest else b""


def stored_text(size: int, head: bytes, tail: bytes) -> bytes:
    """The trace as ``logs`` reads it: head, a line for what was left out, tail."""
    left_out = size - len(head) - len(tail)
    if left_out <= 0:
        return head + tail
    note = f"\n[statemgr: {left_out} bytes of this trace were not kept]\n".encode()
    return head + note + tail


def row_params(name: str, run: str, data: bytes) -> dict[str, Any]:
    head, tail = capped(data)
    return {"name": name, "run": run, "size": len(data), "head": head, "tail": tail}


# --- reading (``statemgr logs``) -----------------------------------------------------------

END_BYTES = 4096  # enough of a run's end for its end line

RUNS_SQL = """
SELECT t.run, t.command, t.started_at,
       CASE WHEN length(t.tail) > 0
            THEN substring(t.tail FROM greatest(1, length(t.tail) - {end} + 1))
            ELSE substring(t.head FROM greatest(1, length(t.head) - {end} + 1)) END
FROM {s}.environments e LEFT JOIN {s}.traces t ON t.name = e.name
WHERE e.name = %s ORDER BY t.run
"""

READ_SQL = """
SELECT size, length(head), length(tail),
       CASE WHEN size <= length(head) + length(tail)
            THEN substring(head || tail FROM %(start)s FOR %(limit)s) END,
       CASE WHEN size > length(head) + length(tail) THEN head END,
       CASE WHEN size > length(head) + length(tail) THEN tail END
FROM {s}.traces
WHERE name = %(name)s AND (run = %(run)s OR right(run, %(length)s) = %(suffix)s)
ORDER BY run DESC LIMIT 1
"""


def trace_run(row: tuple[Any, ...]) -> TraceRun:
    """A ``TraceRun`` from a row of ``RUNS_SQL`` (times as the file name says, as in files)."""
    run, command, started_at, end = row
    parsed = parse_trace_name(run.replace("\\", "/").rpartition("/")[2])
    started = parsed[0] if parsed else started_at.astimezone(UTC)
    return TraceRun(run, started, command, end_line_result(bytes(end or b"")))


def read_params(name: str, run: str, offset: int, limit: int) -> dict[str, Any]:
    file_name = run.replace("\\", "/").rpartition("/")[2]
    return {
        "name": name,
        "run": run,
        "suffix": "/" + file_name,
        "length": len(file_name) + 1,
        "start": max(0, offset) + 1,
        "limit": max(0, limit),
    }


def read_slice(row: tuple[Any, ...], offset: int, limit: int) -> bytes:
    """The bytes ``READ_SQL`` found: its slice, or (for a capped trace) a slice of the
    trace as kept, with the line that says what was left out."""
    size, _head_length, _tail_length, piece, head, tail = row
    if piece is not None:
        return bytes(piece)
    text = stored_text(size, bytes(head), bytes(tail))
    return text[max(0, offset) : max(0, offset) + max(0, limit)]
