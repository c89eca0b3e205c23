"""state.json's bytes: written by orjson, the same bytes json's indenting encoder writes,
with json itself writing what orjson refuses (a lone surrogate)."""

from __future__ import annotations

import json

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_serialization import healthy_running, snapshots

from statemgr.model import StateName
from statemgr.serialization import dumps, loads, to_document


def reference(document: object) -> bytes:
    """What statemgr wrote before orjson: json.dumps, indented by 2, UTF-8, a newline."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", errors="backslashreplace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=st.sampled_from(list(StateName)), with_extras=st.booleans(), data=st.data())
def test_the_bytes_are_those_of_the_indenting_json_encoder(
    state: StateName, with_extras: bool, data: st.DataObject
) -> None:
    """Tried: random snapshots (any text, lone surrogates included; timeouts from 1 ms to
    1e9 s, which neither encoder writes in exponent form)."""
    snapshot = data.draw(snapshots(state, with_extras))
    written = dumps(snapshot)
    assert written == reference(to_document(snapshot))
    assert loads(written) == snapshot


def test_a_lone_surrogate_is_written_as_its_escape_and_reads_back() -> None:
    """Tried: a step's error message holding the surrogate of an undecodable byte."""
    snapshot = healthy_running()
    environment = snapshot.environment
    named = attrs.evolve(environment, config_file="/srv/\udcffconfig.toml")
    written = dumps(attrs.evolve(snapshot, environment=named))
    assert b'"/srv/\\udcffconfig.toml"' in written
    assert loads(written).environment.config_file == "/srv/\udcffconfig.toml"
