"""The JSON form of a snapshot: round trips, golden files, garbage in, migrations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import LINEAGE, T0, sample_environment, sample_failure
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statemgr import serialization
from statemgr.errors import NewerSchema, StateFileUnreadable
from statemgr.model import (
    Environment,
    ErrorKind,
    Failure,
    Operation,
    Phase,
    Phases,
    Snapshot,
    SshCredentials,
    State,
    StateName,
    Step,
    Transition,
    new_snapshot,
)
from statemgr.serialization import dumps, from_document, loads, to_document

GOLDEN = Path(__file__).with_name("golden")
MODEST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- golden snapshots, built with fixed values --------------------------------------------

HAPPY_PATH = [
    ("start_provisioning", StateName.provisioning, "provision"),
    ("provisioned", StateName.provisioned, "provision"),
    ("start_configuring", StateName.configuring, "configure"),
    ("configured", StateName.configured, "configure"),
    ("start_releasing", StateName.releasing, "release"),
    ("released", StateName.released, "release"),
    ("start_running", StateName.running, "run"),
]


def _walk(snapshot: Snapshot, steps: list[tuple[str, StateName, str]], **last: Any) -> Snapshot:
    for index, (event, target, command) in enumerate(steps, start=1):
        extra = last if index == len(steps) else {}
        snapshot = snapshot.transitioned(
            target, event, command, pid=200 + index, host="ops-1",
            at=T0 + timedelta(minutes=index), **extra,
        )  # fmt: skip
    return _recorded(snapshot, 1 + len(steps))


def _recorded(snapshot: Snapshot, revision: int) -> Snapshot:
    """``snapshot`` as saved at ``revision`` with its latest transition (as a store does)."""
    latest = attrs.evolve(snapshot.latest, revision=revision)
    return attrs.evolve(snapshot, revision=revision, latest=latest)


def _created() -> Snapshot:
    created = new_snapshot(sample_environment(), "create", pid=100, host="ops-1", at=T0)
    return attrs.evolve(_recorded(created, 1), lineage=LINEAGE)


def healthy_running() -> Snapshot:
    return _walk(_created(), HAPPY_PATH)


def provision_failed() -> Snapshot:
    failure = attrs.evolve(
        sample_failure(Phase.provision, "tofu_apply"),
        message="╷\n│ Error: creating instance: quota exceeded (région eu-west)\n╵",
        started_at=T0 + timedelta(minutes=1, seconds=5),
        failed_at=T0 + timedelta(minutes=2),
    )
    steps = [*HAPPY_PATH[:1], ("provision_failed", StateName.provision_failed, "provision")]
    return _walk(_created(), steps, failure=failure)


def configuring_in_flight() -> Snapshot:
    operation = Operation(
        command="deploy",
        phase=Phase.configure,
        pid=4242,
        host="ops-1",
        started_at=T0 + timedelta(minutes=3),
        step="ansible_playbook",
        trace_file="data/staging/traces/20261129T130300.000000Z-deploy-4f2a9c.log",
    )
    return _walk(_created(), HAPPY_PATH[:3], operation=operation)


def release_failed_resumable() -> Snapshot:
    """Schema 2: a release that failed after one step, started with --var values."""
    failure = attrs.evolve(
        sample_failure(Phase.release, "migrate_db"),
        started_at=T0 + timedelta(minutes=5, seconds=1),
        failed_at=T0 + timedelta(minutes=6),
        completed_steps=("upload_bundle",),
    )
    steps = [*HAPPY_PATH[:5], ("release_failed", StateName.release_failed, "release")]
    snapshot = _walk(_created(), steps, failure=failure)
    latest = attrs.evolve(snapshot.latest, vars={"version": "1.4.2", "REGION": "é"})
    return attrs.evolve(snapshot, latest=latest)


def running_with_outputs() -> Snapshot:
    """Schema 3: outputs (one multi-line), a step with retries, check steps, and the
    failure of a check (failure phase check) that moved running to run_failed."""
    environment = sample_environment()
    phases = attrs.evolve(
        environment.phases,
        provision=(attrs.evolve(environment.phases.provision[0], retries=3, retry_delay=2.5),),
        check=(
            Step(name="health", run='curl -fsS "http://{outputs.host}:{outputs.port}/health"'),
            Step(name="smoke", call="deploy.checks:smoke", retries=1, retry_delay=0.0),
        ),
    )
    failure = attrs.evolve(
        sample_failure(Phase.check, "smoke"),
        message="AssertionError: the home page says 503",
        error_kind=ErrorKind.error,
        exit_code=None,
        started_at=T0 + timedelta(minutes=8),
        failed_at=T0 + timedelta(minutes=8, seconds=1),
        completed_steps=("health",),
    )
    created = attrs.evolve(_created(), environment=attrs.evolve(environment, phases=phases))
    steps = [*HAPPY_PATH, ("run_failed", StateName.run_failed, "check")]
    snapshot = _walk(created, steps, failure=failure)
    outputs = {"host": "203.0.113.7", "port": "8080", "motd": "Welcome to\nstaging (é)\n"}
    return attrs.evolve(snapshot, outputs=outputs)


def updated_config() -> Snapshot:
    """Schema 5: the config's hash, and an ``update`` in the history (state unchanged)."""
    running = healthy_running()
    environment = attrs.evolve(running.environment, config_hash="9f86d081884c7d65" * 4)
    updated = attrs.evolve(running, environment=environment).recorded(
        "update", "update", pid=300, host="ops-1", at=T0 + timedelta(minutes=20)
    )
    return _recorded(updated, running.revision + 1)


GOLDEN_SNAPSHOTS = {
    "updated_config.json": updated_config,
    "healthy_running.json": healthy_running,
    "running_with_outputs.json": running_with_outputs,
    "provision_failed.json": provision_failed,
    "configuring_in_flight.json": configuring_in_flight,
    "release_failed_resumable.json": release_failed_resumable,
}
# Files written by earlier schema versions (golden/vN/NAME), kept byte for byte as those
# versions wrote them: each must still load, as the current golden file of its name does.
OLD_GOLDEN = sorted(GOLDEN.glob("v*/*.json"))


@pytest.mark.parametrize("old", OLD_GOLDEN, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_files_of_every_earlier_schema_version_still_load(old: Path) -> None:
    """Tried: each golden file an earlier schema version wrote, migrated on read."""
    version = int(old.parent.name.removeprefix("v"))
    assert json.loads(old.read_bytes())["schema_version"] == version < serialization.SCHEMA_VERSION
    assert loads(old.read_bytes()) == loads((GOLDEN / old.name).read_bytes())


@pytest.mark.parametrize("file", list(GOLDEN_SNAPSHOTS))
def test_dumps_writes_the_golden_bytes(file: str) -> None:
    """Tried: each golden snapshot built in code; dumps() must equal the committed file."""
    assert dumps(GOLDEN_SNAPSHOTS[file]()) == (GOLDEN / file).read_bytes()


@pytest.mark.parametrize("file", list(GOLDEN_SNAPSHOTS))
def test_loads_reads_the_golden_file(file: str) -> None:
    """Tried: each committed golden file; loads() must give the snapshot built in code."""
    assert loads((GOLDEN / file).read_bytes()) == GOLDEN_SNAPSHOTS[file]()


def test_the_golden_format_has_the_contracts_fields() -> None:
    """Tried: the failed golden file, read as plain JSON: the keys the contract lists."""
    document = json.loads((GOLDEN / "provision_failed.json").read_bytes())
    assert document["schema_version"] == serialization.SCHEMA_VERSION
    assert set(document) >= {
        "schema_version", "lineage", "revision", "environment", "state", "operation",
        "created_at", "updated_at", "latest",
    }  # fmt: skip
    assert set(document["environment"]) >= {"name", "ssh", "data_dir", "build_dir", "phases"}
    assert document["state"]["name"] == "provision_failed"
    assert set(document["state"]["failure"]) >= {
        "phase", "failed_step", "error_kind", "message", "exit_code", "trace_file",
        "started_at", "failed_at", "completed_steps",
    }  # fmt: skip
    assert "history" not in document  # schema 4: in history.jsonl
    latest = document["latest"]
    assert set(latest) >= {"at", "from", "to", "event", "command", "pid", "host", "revision"}
    assert (latest["from"], latest["to"]) == ("provisioning", "provision_failed")
    assert latest["failed_step"] == "tofu_apply" and latest["revision"] == document["revision"]
    assert datetime.fromisoformat(document["updated_at"]).utcoffset() is not None
    in_flight = json.loads((GOLDEN / "configuring_in_flight.json").read_bytes())
    assert set(in_flight["operation"]) == {
        "command", "phase", "step", "pid", "host", "started_at", "trace_file",
        "completed_steps",
    }  # fmt: skip
    assert "vars" not in latest  # only a command with --var values has any


# --- strategies for the model --------------------------------------------------------------

offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC) | offsets
)
# Any text, including lone surrogates (a step's output decoded with surrogateescape).
texts = st.text(st.characters(codec=None), max_size=30)
_LOWER = "abcdefghijklmnopqrstuvwxyz"
identifiers = st.builds(
    str.__add__, st.sampled_from(_LOWER), st.text(_LOWER + "0123456789_", max_size=12)
)
env_names = st.builds(
    "-".join,
    st.lists(st.text(_LOWER + "0123456789", min_size=1, max_size=6), min_size=1, max_size=4),
).map(lambda name: "e" + name)
pids = st.integers(min_value=1, max_value=2**22)

_step_fields = {
    "name": identifiers,
    "cwd": st.none() | texts,
    "timeout": st.floats(min_value=0.001, max_value=1e9),
    "env": st.dictionaries(st.text("ABCXYZ_019", min_size=1, max_size=6), texts, max_size=3),
    "retries": st.integers(min_value=0, max_value=100),
    "retry_delay": st.just(0.0) | st.floats(min_value=0.001, max_value=1e6),
}
# Steps as the config makes them: exactly one of run (non-empty) or call.
steps = st.builds(
    Step,
    run=texts.filter(str.strip) | st.lists(texts, min_size=1, max_size=4).map(tuple),
    **_step_fields,
) | st.builds(Step, call=st.just("deploy.steps:start"), **_step_fields)
phases = st.builds(
    Phases, **{phase.value: st.lists(steps, max_size=2).map(tuple) for phase in Phase}
)
ssh = st.builds(
    SshCredentials,
    private_key=texts,
    public_key=texts,
    username=texts,
    port=st.integers(min_value=1, max_value=65535),
)
environments = st.builds(
    Environment.new,
    name=env_names,
    phases=phases,
    ssh=st.none() | ssh,
    config_file=st.none() | texts,
)
failures = st.builds(
    Failure,
    phase=st.sampled_from(Phase),
    failed_step=identifiers,
    error_kind=st.sampled_from(ErrorKind),
    message=texts,
    started_at=aware_datetimes,
    failed_at=aware_datetimes,
    exit_code=st.none() | st.integers(min_value=-255, max_value=255),
    trace_file=st.none() | texts,
    completed_steps=st.lists(identifiers, max_size=3).map(tuple),
)
operations = st.builds(
    Operation,
    command=st.sampled_from(["provision", "configure", "release", "run", "deploy", "destroy"]),
    phase=st.sampled_from(Phase),
    pid=pids,
    host=texts,
    started_at=aware_datetimes,
    step=st.none() | identifiers,
    completed_steps=st.lists(identifiers, max_size=3).map(tuple),
)
transitions = st.builds(
    Transition,
    at=aware_datetimes,
    from_state=st.none() | st.sampled_from(StateName),
    to=st.sampled_from(StateName),
    event=st.sampled_from(["create", "destroy_failed"]) | identifiers,
    command=texts,
    pid=pids,
    host=texts,
    failed_step=st.none() | identifiers,
    vars=st.dictionaries(st.text("ABCxyz_019", min_size=1, max_size=6), texts, max_size=3),
    revision=st.none() | st.integers(min_value=1, max_value=2**40),
)


output_values = st.dictionaries(
    st.text("ABCxyz_019", min_size=1, max_size=8).filter(lambda key: not key[0].isdigit()),
    st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=40),
    max_size=4,
)


@st.composite
def snapshots(draw: st.DrawFn, state: StateName, with_extras: bool) -> Snapshot:
    """A snapshot in ``state``; ``with_extras``: an operation, a destroy failure and
    outputs."""
    failure = draw(failures) if state.is_failed else None
    return Snapshot(
        lineage=draw(st.uuids()),
        revision=draw(st.integers(min_value=0, max_value=2**40)),
        environment=draw(environments),
        state=State(state, failure),
        created_at=draw(aware_datetimes),
        updated_at=draw(aware_datetimes),
        latest=draw(transitions),
        operation=draw(operations) if with_extras else None,
        destroy_failure=draw(failures) if with_extras else None,
        outputs=draw(output_values) if with_extras else {},
    )


@pytest.mark.parametrize("with_extras", [False, True], ids=["bare", "with-operation-failures"])
@pytest.mark.parametrize("state", list(StateName))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_state_round_trips(state: StateName, with_extras: bool, data: st.DataObject) -> None:
    """Tried: random snapshots in each state, with and without operation and failures."""
    snapshot = data.draw(snapshots(state, with_extras))
    written = dumps(snapshot)
    assert loads(written) == snapshot
    assert dumps(loads(written)) == written
    assert from_document(json.loads(written)) == snapshot
    assert written.endswith(b"\n")


# --- garbage in: only ever StateFileUnreadable ---------------------------------------------


def only_unreadable(data: bytes | str) -> StateFileUnreadable | Snapshot:
    """loads(data), which must either succeed or raise StateFileUnreadable (nothing else)."""
    try:
        return loads(data, source="data/x/state.json")
    except StateFileUnreadable as unreadable:
        assert unreadable.path == "data/x/state.json"
        assert unreadable.problems and all(unreadable.problems)
        assert unreadable.exit_code == 6
        return unreadable


@MODEST
@given(st.binary(max_size=300))
def test_random_bytes_are_unreadable(data: bytes) -> None:
    """Tried: random bytes."""
    assert isinstance(only_unreadable(data), StateFileUnreadable)


@pytest.mark.parametrize("file", list(GOLDEN_SNAPSHOTS))
def test_every_prefix_of_a_golden_file_is_unreadable(file: str) -> None:
    """Tried: every truncation of each golden file, byte by byte (some cut a UTF-8 char)."""
    data = (GOLDEN / file).read_bytes()
    for end in range(len(data)):
        outcome = only_unreadable(data[:end])
        # Only the file without its final newline is still a whole document.
        if isinstance(outcome, Snapshot):
            assert end == len(data) - 1, f"a prefix of {end} bytes was read as a snapshot"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@MODEST
@given(json_values)
def test_random_json_values_are_unreadable(value: object) -> None:
    """Tried: random JSON values (and the same inside an object with schema_version 1)."""
    assert isinstance(only_unreadable(json.dumps(value)), StateFileUnreadable)
    wrapped = {"schema_version": 1, "state": value, "environment": value}
    assert isinstance(only_unreadable(json.dumps(wrapped)), StateFileUnreadable)


def _paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) into a JSON document."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*path, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], new: object) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return copy


# The failed golden snapshot's document (the golden tests pin that it is the committed one).
GOLDEN_DOCUMENT = json.loads(dumps(provision_failed()))
GOLDEN_PATHS = _paths(GOLDEN_DOCUMENT)


@MODEST
@given(st.sampled_from(GOLDEN_PATHS), json_values)
def test_a_wrong_shape_anywhere_is_unreadable_or_valid(path: tuple[Any, ...], new: object) -> None:
    """Tried: the failed golden document with one value, anywhere, replaced by random JSON.

    Some replacements are still valid (a string for a string); those must read as a
    snapshot. Nothing else may escape.
    """
    outcome = only_unreadable(json.dumps(_replaced(GOLDEN_DOCUMENT, path, new)))
    assert isinstance(outcome, StateFileUnreadable | Snapshot)


def _changed(edit: str) -> bytes:
    """The failed golden document after one hand-written edit."""
    document = json.loads((GOLDEN / "provision_failed.json").read_bytes())
    failure = document["state"]["failure"]
    edits = {
        "unknown state": lambda: document["state"].update(name="halfway"),
        "unknown phase": lambda: failure.update(phase="deploy"),
        "unknown error kind": lambda: failure.update(error_kind="oops"),
        "naive created_at": lambda: document.update(created_at="2026-11-29T13:00:00"),
        "naive history time": lambda: document["latest"].update(at="2026-11-29T13:01:00"),
        "number as name": lambda: document["environment"].update(name=5),
        "number as message": lambda: failure.update(message=1),
        "number as host": lambda: document["latest"].update(host=3.5),
        "bool as revision": lambda: document.update(revision=True),
        "bool as port": lambda: document["environment"]["ssh"].update(port=True),
        "bool as pid": lambda: document["latest"].update(pid=False),
        "string as revision": lambda: document.update(revision="4"),
        "float as exit_code": lambda: failure.update(exit_code=1.5),
        "extra top-level key": lambda: document.update(comment="hi"),
        "extra step key": lambda: document["environment"]["phases"]["provision"][0].update(
            shell=True
        ),
        "extra failure key": lambda: failure.update(retries=2),
        "extra history key": lambda: document["latest"].update(user="root"),
        "missing state": lambda: document.pop("state"),
        "missing failure": lambda: document["state"].pop("failure"),
        "failure on a healthy state": lambda: document["state"].update(name="provisioned"),
        "bad lineage": lambda: document.update(lineage="not-a-uuid"),
        "bad environment name": lambda: document["environment"].update(name="../etc"),
        "empty run list": lambda: document["environment"]["phases"]["provision"][0].update(run=[]),
        "history not a list": lambda: document.update(latest=[None]),
    }
    edits[edit]()
    return json.dumps(document).encode()


EDIT_MENTIONS = {
    "unknown state": "halfway",
    "naive created_at": "no UTC offset",
    "bad environment name": "invalid environment name",
    "extra top-level key": "comment",
}


@pytest.mark.parametrize(
    "edit",
    [
        "unknown state", "unknown phase", "unknown error kind", "naive created_at",
        "naive history time", "number as name", "number as message", "number as host",
        "bool as revision", "bool as port", "bool as pid", "string as revision",
        "float as exit_code", "extra top-level key", "extra step key", "extra failure key",
        "extra history key", "missing state", "missing failure", "failure on a healthy state",
        "bad lineage", "bad environment name", "empty run list", "history not a list",
    ],
)  # fmt: skip
def test_a_bad_field_is_unreadable(edit: str) -> None:
    """Tried: the failed golden document with one bad field (the id says which)."""
    outcome = only_unreadable(_changed(edit))
    assert isinstance(outcome, StateFileUnreadable), f"{edit} was accepted"
    if edit in EDIT_MENTIONS:
        assert EDIT_MENTIONS[edit] in str(outcome)


def test_every_bad_field_is_listed_with_its_path() -> None:
    """Tried: three bad fields at once; the error lists each with its $.path."""
    document = json.loads((GOLDEN / "provision_failed.json").read_bytes())
    document["revision"] = True
    document["state"]["failure"]["error_kind"] = "oops"
    document["latest"]["at"] = "2026-11-29T13:00:00"
    outcome = only_unreadable(json.dumps(document))
    assert isinstance(outcome, StateFileUnreadable)
    text = "\n".join(outcome.problems)
    assert "$.revision" in text
    assert "$.state.failure.error_kind" in text
    assert "$.latest.at" in text


@pytest.mark.parametrize("ahead", [1, 2, 10**6])
def test_a_newer_schema_is_refused_naming_both_versions(ahead: int) -> None:
    """Tried: the healthy golden document with schema_version 1, 2 and 1000000 ahead."""
    version = serialization.SCHEMA_VERSION + ahead
    current = serialization.SCHEMA_VERSION
    document = json.loads((GOLDEN / "healthy_running.json").read_bytes())
    document["schema_version"] = version
    with pytest.raises(NewerSchema) as refused:
        loads(json.dumps(document), source="data/web/state.json")
    assert refused.value.found == version and refused.value.supported == current
    assert f"schema_version {version}" in str(refused.value)
    assert f"newer than {current}" in str(refused.value)
    assert "data/web/state.json" in str(refused.value)
    assert isinstance(refused.value, StateFileUnreadable) and refused.value.exit_code == 6


@pytest.mark.parametrize("version", [0, -1, "1", True, None, 1.0, "missing"])
def test_a_bad_schema_version_is_unreadable(version: object) -> None:
    """Tried: schema_version 0, -1, "1", true, null, 1.0 and no schema_version at all."""
    document = json.loads((GOLDEN / "healthy_running.json").read_bytes())
    if version == "missing":
        del document["schema_version"]
    else:
        document["schema_version"] = version
    outcome = only_unreadable(json.dumps(document))
    assert isinstance(outcome, StateFileUnreadable) and not isinstance(outcome, NewerSchema)
    assert "schema_version" in str(outcome)


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"[" * 100_000, b"1" * 5000, b"\xff\xfe{}", b"null", b'"state"', b"{}"],
    ids=["empty", "blank", "deep", "huge-int", "utf16-bom", "null", "string", "empty-object"],
)
def test_odd_documents_are_unreadable(data: bytes) -> None:
    """Tried: empty, blank, deeply nested, a 5000-digit number, a BOM, null, a string, {}."""
    assert isinstance(only_unreadable(data), StateFileUnreadable)


# --- migrations ------------------------------------------------------------------------------

CURRENT = serialization.SCHEMA_VERSION


def _as_old_version(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as a hypothetical current version that named a transition's "from"
    "from_state" (a hypothetical next version renames it)."""
    document = to_document(snapshot)
    document["latest"]["from_state"] = document["latest"].pop("from")
    return document


def _rename_from_state(document: dict[str, Any]) -> dict[str, Any]:
    latest = dict(document["latest"])
    latest["from"] = latest.pop("from_state")
    return {**document, "latest": latest}


def test_a_registered_migration_reads_an_older_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: SCHEMA_VERSION patched to the next version and a migration to it registered;
    a current-version document in the hypothetical old shape.

    What this proves: migrate() runs the registered step for the document's version, stamps
    the new version, and the result is structured as the current model; without the step
    the old document is refused. It proves nothing about any real future migration.
    """
    calls: list[int] = []

    def to_next(document: dict[str, Any]) -> dict[str, Any]:
        calls.append(document["schema_version"])
        return _rename_from_state(document)

    old = _as_old_version(provision_failed())
    assert isinstance(only_unreadable(json.dumps(old)), StateFileUnreadable)  # old shape today

    monkeypatch.setattr(serialization, "SCHEMA_VERSION", CURRENT + 1)
    with pytest.raises(StateFileUnreadable, match=f"no migration from schema_version {CURRENT}"):
        loads(json.dumps(old))

    monkeypatch.setitem(serialization.MIGRATIONS, CURRENT, to_next)
    migrated = loads(json.dumps(old))
    assert calls == [CURRENT]
    assert migrated == attrs.evolve(provision_failed(), schema_version=CURRENT + 1)
    assert old["latest"]["from_state"] == "provisioning"  # the caller's document is unchanged

    current = to_document(attrs.evolve(provision_failed(), schema_version=CURRENT + 1))
    assert from_document(current) == attrs.evolve(provision_failed(), schema_version=CURRENT + 1)
    assert calls == [CURRENT]  # a current document is not migrated


def test_migrations_run_in_order_up_to_the_current_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tried: a version-1 file, with every registered step wrapped to record its order."""
    seen: list[int] = []

    def recorded(version: int, step: Any) -> Any:
        def migration(document: dict[str, Any]) -> dict[str, Any]:
            seen.append(document["schema_version"])
            assert document["schema_version"] == version
            return step(document)

        return migration

    for version, step in list(serialization.MIGRATIONS.items()):
        monkeypatch.setitem(serialization.MIGRATIONS, version, recorded(version, step))
    loaded = loads((GOLDEN / "v1" / "healthy_running.json").read_bytes())
    assert seen == list(range(1, CURRENT))
    assert loaded == healthy_running()


def test_every_older_version_has_its_migration() -> None:
    """Tried: the real registry: one step from each version before the current one."""
    assert sorted(serialization.MIGRATIONS) == list(range(1, CURRENT))
    assert CURRENT == 6
