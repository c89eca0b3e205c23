"""The PostgreSQL store, on a throwaway local cluster (started and stopped here):

- ``statemgr status NAME --json`` through the PostgreSQL store, as a new process each run,
  against ``terraform show -json`` of a one-resource state in Terraform's own ``pg``
  backend on the same cluster (its ``terraform_data`` resource and the backend are built
  in: nothing is downloaded), and against statemgr's file-store status;
- durable saves through the held lock (one process, the CAS save of a step's progress),
  PostgreSQL (fsync and synchronous commit on, as by default) against the file store;
- ``statemgr list --json`` over 10,000 environments in PostgreSQL.

Run: ``python -m bench.postgres [--quick]``. Needs the PostgreSQL 15 server binaries
(``apt-get install postgresql``) and the ``postgresql`` extra; without them it says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    TEMPLATE_NAME,
    Section,
    env_name,
    median,
    ms,
    ms3,
    run_many,
    run_standalone,
    sample_snapshot,
    scratch,
    spread,
    statemgr_executable,
    template_bytes,
)
from bench.install import regular_install
from bench.startup import check_output, measure, offline_environment, prepare_statemgr

TITLE = "postgresql"
TF_RATIO_GOAL = 2.5
FILE_RATIO_GOAL = 1.5
LIST_GOAL = 1.0
TERRAFORM_PG = """terraform {{
  backend "pg" {{
    conn_str    = "{url}?sslmode=disable"
    schema_name = "terraform_bench"
  }}
}}
resource "terraform_data" "x" {{
  input = "hello"
}}
"""


@contextmanager
def cluster() -> Iterator[Any]:
    """A throwaway cluster (the tests' own starter), stopped whatever happens."""
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from postgres_cluster import Cluster, postgres_available
    finally:
        sys.path.remove(str(REPO / "tests"))
    if not postgres_available():
        raise LookupError("the PostgreSQL 15 server binaries are not installed")
    server = Cluster(durable=True)  # saves are fsynced, as the file store's are
    try:
        server.start()
        yield server
    finally:
        server.stop()


def status_times(
    section: Section, url: str, folder: Path, runs: int
) -> tuple[float, float, float | None]:
    """Medians of status through PostgreSQL, through files, and terraform's pg show, timed
    in turns, statemgr from a regular install (as in the start-up benchmark)."""
    from statemgr.layout import Layout
    from statemgr.store.postgres import PostgresStore

    statemgr = str(regular_install(folder / "venv"))
    workdir = prepare_statemgr(folder)  # the file store's 'web'
    store = PostgresStore(url, Layout(workdir))
    with store.lock("web", "bench", create=True) as held:
        held.create(sample_snapshot("web"))
    store.close()
    through_pg = [statemgr, "--workdir", str(workdir), "--store", url, "status", "web", "--json"]
    through_files = [statemgr, "--workdir", str(workdir), "status", "web", "--json"]
    for argv in (through_pg, through_files):
        check_output(argv, None, parse_json=True)
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "statemgr status --json (PostgreSQL)": (through_pg, None),
        "statemgr status --json (files)": (through_files, None),
    }
    terraform = terraform_show(folder, url)
    if isinstance(terraform, str):
        section.note(f"terraform pg baseline skipped: {terraform}")
    else:
        commands["terraform show -json (pg backend)"] = terraform
    measured = measure(commands, runs=runs)
    for label, (times, _rss) in measured.items():
        section.note(f"{label}: {spread(times)}")
    tf = measured.get("terraform show -json (pg backend)")
    return (
        median(measured["statemgr status --json (PostgreSQL)"][0]),
        median(measured["statemgr status --json (files)"][0]),
        median(tf[0]) if tf else None,
    )


def terraform_show(folder: Path, url: str) -> tuple[list[str], dict[str, str]] | str:
    terraform = shutil.which("terraform")
    if terraform is None:
        return "terraform is not on PATH"
    project = folder / "tf-pg"
    project.mkdir()
    (project / "main.tf").write_text(TERRAFORM_PG.format(url=url))
    env = offline_environment(folder)
    for step in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            [terraform, f"-chdir={project}", *step], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            return f"terraform {step[0]} failed: {done.stderr.strip()[-300:]}"
    argv = [terraform, f"-chdir={project}", "show", "-json"]
    shown = subprocess.run(argv, env=env, capture_output=True, text=True)
    resources = json.loads(shown.stdout)["values"]["root_module"]["resources"]
    if len(resources) != 1:
        return f"expected one resource in the pg state, found {len(resources)}"
    return argv, env


def save_rate(store: Any, saves: int) -> float:
    """Seconds per durable save of a step's progress, through the held lock."""
    import attrs

    from statemgr.model import Operation, Phase, utc_now

    with store.lock("web", "bench", create=not store.exists("web")) as held:
        if not store.exists("web"):
            held.create(sample_snapshot("web"))
        snapshot = held.load()
        operation = Operation("deploy", Phase.provision, os.getpid(), "bench", utc_now())
        started = time.perf_counter()
        for index in range(saves):
            snapshot = held.save(
                attrs.evolve(snapshot, operation=attrs.evolve(operation, step=f"step-{index % 7}"))
            )
        return (time.perf_counter() - started) / saves


def fill(url: str, count: int) -> None:
    """``count`` environments in one statement batch: the library's bytes, renamed."""
    import psycopg2
    from psycopg2.extras import execute_values

    from statemgr.model.snapshot import SCHEMA_VERSION

    template = template_bytes().decode().replace('"revision": 0,', '"revision": 1,', 1)
    lineage = json.loads(template)["lineage"]
    snapshot = sample_snapshot(TEMPLATE_NAME)
    schema = os.environ["STATEMGR_PG_SCHEMA"]
    rows = []
    for index in range(count):
        name, new_lineage = env_name(index), str(uuid.uuid4())
        body = template.replace(TEMPLATE_NAME, name).replace(lineage, new_lineage)
        rows.append(
            (
                name,
                new_lineage,
                1,
                SCHEMA_VERSION,
                snapshot.state.name.value,
                snapshot.updated_at,
                None,
                body,
            )
        )
    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            execute_values(
                cursor,
                f"INSERT INTO {schema}.environments (name, lineage, revision, schema_version, "
                "state, updated_at, operation, document) VALUES %s",
                rows,
                page_size=1000,
            )
    finally:
        connection.close()


def run(quick: bool) -> Section:
    section = Section(TITLE)
    runs = 3 if quick else 20
    count = 500 if quick else 10_000
    os.environ["STATEMGR_PG_SCHEMA"] = "statemgr_bench"
    try:
        with cluster() as server, scratch("postgres") as folder:
            url = server.url
            pg, files, tf = status_times(section, url, folder, runs)
            add_status_rows(section, pg, files, tf)
            add_save_rows(section, url, folder, 50 if quick else 500)
            add_list_rows(section, url, folder, count, runs)
    except LookupError as missing:
        section.note(f"skipped: {missing}")
        section.add("status through PostgreSQL", "n/a", "", "", f"<= {TF_RATIO_GOAL}x", None)
    finally:
        os.environ.pop("STATEMGR_PG_SCHEMA", None)
    return section


def add_status_rows(section: Section, pg: float, files: float, tf: float | None) -> None:
    section.add(
        "statemgr status --json, PostgreSQL store",
        ms(pg),
        f"terraform show -json (pg backend) {ms(tf)}" if tf else "terraform: n/a",
        f"{pg / tf:.2f}x" if tf else "",
        f"<= {TF_RATIO_GOAL}x terraform",
        pg / tf <= TF_RATIO_GOAL if tf else None,
    )
    section.add(
        "statemgr status --json, PostgreSQL store",
        ms(pg),
        f"file store {ms(files)}",
        f"{pg / files:.2f}x",
        f"<= {FILE_RATIO_GOAL}x file store",
        pg / files <= FILE_RATIO_GOAL,
    )


def add_save_rows(section: Section, url: str, folder: Path, saves: int) -> None:
    from statemgr.layout import Layout
    from statemgr.store.file import FileStore
    from statemgr.store.postgres import PostgresStore

    pg_store = PostgresStore(url, Layout(folder / "pg-saves"))
    per_pg = save_rate(pg_store, saves)
    pg_store.close()
    per_file = save_rate(FileStore(Layout(folder / "file-saves")), saves)
    section.note(
        f"{saves} saves through the held lock: PostgreSQL {ms3(per_pg)} each, "
        f"files (fsync) {ms3(per_file)} each"
    )
    section.add(
        "durable save through the held lock, PostgreSQL",
        f"{1 / per_pg:.0f}/s",
        f"file store {1 / per_file:.0f}/s",
        f"{per_file / per_pg:.2f}x the rate",
    )


def add_list_rows(section: Section, url: str, folder: Path, count: int, runs: int) -> None:
    fill(url, count)
    statemgr = statemgr_executable()
    argv = [statemgr, "--workdir", str(folder), "--store", url, "list", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True)
    listed = json.loads(done.stdout)
    if done.returncode != 0 or len(listed) < count:
        raise RuntimeError(f"list showed {len(listed)} environments: {done.stderr}")
    times = [run.seconds for run in run_many(argv, min(runs, 5) + 1)[1:]]
    section.note(f"statemgr list --json of {count} in PostgreSQL: {spread(times)}")
    section.add(
        f"statemgr list --json, {count} environments, PostgreSQL",
        ms(median(times)),
        "",
        "",
        f"< {LIST_GOAL:g} s",
        median(times) < LIST_GOAL,
    )


def main(argv: list[str] | None = None) -> int:
    return run_standalone(TITLE, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
