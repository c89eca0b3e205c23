"""Shared builders: snapshots with fixed values, in any state. Keep this file small."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import attrs

# A throwaway PostgreSQL cluster (started by the first test that asks for it).
from postgres_cluster import pg_schema, pg_url, postgres_server  # noqa: F401

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
    new_snapshot,
)

T0 = datetime(2026, 11, 29, 13, 0, 0, 123456, tzinfo=UTC)
LINEAGE = uuid.UUID("0b7a9c3e-5f1d-4e2a-9b8c-1d2e3f4a5b6c")

FAILED_PHASE = {
    StateName.provision_failed: Phase.provision,
    StateName.configure_failed: Phase.configure,
    StateName.release_failed: Phase.release,
    StateName.run_failed: Phase.run,
}


def sample_environment(name: str = "staging") -> Environment:
    """An environment with SSH credentials and a step in two phases."""
    return Environment.new(
        name,
        phases=Phases(
            provision=(
                Step(
                    name="tofu_apply",
                    run=("tofu", "apply", "-auto-approve"),
                    cwd="tofu",
                    timeout=600.0,
                    env={"TF_VAR_env": "{name}"},
                ),
            ),
            run=(Step(name="start_app", call="deploy.steps:start"),),
            destroy=(Step(name="tofu_destroy", run="tofu destroy -auto-approve"),),
        ),
        ssh=SshCredentials(
            private_key="/home/ops/keys/id_ed25519",
            public_key="/home/ops/keys/id_ed25519.pub",
            username="torrust",
            port=22,
        ),
        config_file="/home/ops/staging.toml",
    )


def sample_failure(phase: Phase = Phase.provision, step: str = "tofu_apply") -> Failure:
    return Failure(
        phase=phase,
        failed_step=step,
        error_kind=ErrorKind.command_failed,
        message="Error: exit status 1",
        started_at=T0 + timedelta(seconds=10),
        failed_at=T0 + timedelta(seconds=12, microseconds=500),
        exit_code=1,
        trace_file="data/staging/traces/20261129T130010-provision.log",
    )


def snapshot_in(
    state: StateName, *, operation: Operation | None = None, step: str = "tofu_apply"
) -> Snapshot:
    """A snapshot with fixed values in ``state`` (failed states carry a failure at ``step``)."""
    created = attrs.evolve(
        new_snapshot(sample_environment(), "create", pid=100, host="ops-1", at=T0),
        lineage=LINEAGE,
        revision=1,
    )
    if state is StateName.created and operation is None:
        return created
    failure = sample_failure(FAILED_PHASE[state], step) if state.is_failed else None
    return attrs.evolve(
        created,
        state=State(state, failure),
        operation=operation,
        updated_at=T0 + timedelta(minutes=1),
    )
