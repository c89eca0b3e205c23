"""What only the PostgreSQL store has: capped traces, its layout version, holder records
checked against pg_locks, rows damaged by hand (the behaviour both stores share is in
test_store_shared.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from postgres_cluster import Cluster

from statemgr.errors import StateFileUnreadable
from statemgr.layout import Layout
from statemgr.model import Snapshot
from statemgr.store.postgres import PostgresStore
from statemgr.store.postgres_schema import LAYOUT_VERSION, lock_key
from statemgr.store.postgres_traces import HEAD, TAIL

from .store_support import fresh_snapshot


@pytest.fixture
def store(pg_url: str, tmp_path: Path) -> Iterator[PostgresStore]:
    opened = PostgresStore(pg_url, Layout(tmp_path / "workspace"))
    yield opened
    opened.close()


@pytest.fixture
def web(store: PostgresStore) -> Snapshot:
    with store.lock("web", "create", create=True) as held:
        return held.create(fresh_snapshot("web"))


def test_a_long_trace_keeps_its_first_and_last_bytes(store: PostgresStore, web: Snapshot) -> None:
    from statemgr.runners.trace import Trace

    lines = [f"line {index:07d} ".ljust(99, "x") + "\n" for index in range(20_000)]  # ~2 MB
    with store.lock("web", "deploy") as held:
        opened = held.open_trace("deploy")
        trace = Trace.started(opened.path, "deploy")
        for start in range(0, len(lines), 500):  # shipped piece by piece, at saves
            trace.write("".join(lines[start : start + 500]))
            held.save(held.load())
        trace.end("done")
        written = opened.path.read_bytes()
    kept = store.read_trace("web", opened.name, 0, 4 << 20)
    left_out = len(written) - HEAD - TAIL
    assert kept.startswith(written[:HEAD]) and kept.endswith(written[-TAIL:])
    assert f"[statemgr: {left_out} bytes of this trace were not kept]".encode() in kept
    assert store.runs("web")[0].result == "done"


def test_a_holder_record_without_its_session_means_nothing(
    store: PostgresStore, web: Snapshot, postgres_server: Cluster, pg_schema: str
) -> None:
    postgres_server.sql(
        f"INSERT INTO {pg_schema}.holders VALUES ('web', {lock_key(pg_schema, 'web')}, "
        "424242, now(), 'x', 4242, 'elsewhere', 'deploy', now())"
    )
    assert store.holder("web") is None
    assert store.list()[0].held is False
    with store.lock("web", "provision") as held:  # and it does not stand in the way
        assert store.holder("web") == held.holder


def test_a_damaged_row_is_unreadable_and_listed_with_its_error(
    store: PostgresStore, web: Snapshot, postgres_server: Cluster, pg_schema: str
) -> None:
    with store.lock("ok", "create", create=True) as held:
        held.create(fresh_snapshot("ok"))
    postgres_server.sql(f"UPDATE {pg_schema}.environments SET document = '{{' WHERE name = 'web'")
    with pytest.raises(StateFileUnreadable) as unreadable:
        store.load("web")
    assert unreadable.value.exit_code == 6
    postgres_server.sql(
        f"UPDATE {pg_schema}.environments SET operation = '{{}}', state = 'nonsense' "
        "WHERE name = 'web'"
    )
    listed = {entry.name: entry for entry in store.list()}
    assert listed["web"].error is not None and listed["web"].summary is None
    assert listed["ok"].error is None


def test_a_newer_layout_is_refused_and_left_alone(
    store: PostgresStore, web: Snapshot, postgres_server: Cluster, pg_schema: str
) -> None:
    newer = LAYOUT_VERSION + 1
    postgres_server.sql(f"UPDATE {pg_schema}.meta SET value = '{newer}'")
    for attempt in (lambda: store.load("web"), lambda: store.lock("web", "deploy").__enter__()):
        with pytest.raises(StateFileUnreadable) as refused:
            attempt()
        assert refused.value.exit_code == 6 and f"layout version {newer}" in str(refused.value)
    assert postgres_server.sql(f"SELECT value FROM {pg_schema}.meta") == [(str(newer),)]


def test_times_come_back_in_utc_whatever_the_session_time_zone(
    store: PostgresStore, web: Snapshot, postgres_server: Cluster
) -> None:
    postgres_server.sql("ALTER DATABASE postgres SET timezone TO 'Asia/Kolkata'")
    try:
        fresh = PostgresStore(store.database.target.url, store.layout)
        assert fresh.list()[0].summary is not None
        summary = fresh.list()[0].summary
        assert summary is not None and summary.updated_at == web.updated_at
        assert summary.updated_at.utcoffset() == datetime.now(UTC).utcoffset()
        with store.lock("web", "deploy"):
            holder = fresh.holder("web")
            assert holder is not None and holder.since.utcoffset() == UTC.utcoffset(None)
        fresh.close()
    finally:
        postgres_server.sql("ALTER DATABASE postgres RESET timezone")
