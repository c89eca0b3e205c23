"""Cold start: the reading commands (``statemgr status NAME --json``, ``list --json``,
``history NAME --json``, ``output NAME --json``) and ``--help`` as new processes, against
``python -c pass`` (the same interpreter) and ``terraform show -json`` on a one-resource
state (each reading command is held to 1.5x that). Medians of wall time per run, and the
peak RSS of each child (wait4).

statemgr runs from a regular (non-editable) install made for the run (``bench.install``),
as users install it; the development install's editable hook would add its own import to
every start.

"Cold" means a new process every run; the files are in the page cache (two warm-up runs
of each command are discarded), as they are for a user who types ``statemgr status``
twice. Run: ``python -m bench.startup [--quick]``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import (
    MIB,
    Section,
    median,
    mib,
    ms,
    run_in_turns,
    run_standalone,
    sample_snapshot,
    scratch,
    spread,
)
from bench.install import regular_install

TITLE = "start-up"
RSS_GOAL_KIB = 40 * MIB // 1024
STATUS_GOAL_RATIO = 1.5
TERRAFORM_CONFIG = 'resource "terraform_data" "x" {\n  input = "hello"\n}\n'


def offline_environment(folder: Path) -> dict[str, str]:
    """The environment for terraform: no checkpoint call, any HTTP goes nowhere."""
    config = folder / "terraformrc"
    config.write_text("")
    env = dict(os.environ)
    env.update(
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        TF_CLI_CONFIG_FILE=str(config),
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
    )
    return env


def prepare_terraform(folder: Path) -> tuple[list[str], dict[str, str]] | str:
    """A one-resource state (terraform_data is built in: nothing downloaded); the argv of
    ``terraform show -json`` on it, or why it is not available."""
    terraform = shutil.which("terraform")
    if terraform is None:
        return "terraform is not on PATH"
    project = folder / "tf"
    project.mkdir()
    (project / "main.tf").write_text(TERRAFORM_CONFIG)
    env = offline_environment(folder)
    for step in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            [terraform, f"-chdir={project}", *step], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            return f"terraform {step[0]} failed: {done.stderr.strip()[-300:]}"
    argv = [terraform, f"-chdir={project}", "show", "-json"]
    shown = subprocess.run(argv, env=env, capture_output=True, text=True)
    values = json.loads(shown.stdout)["values"]["root_module"]["resources"]
    if len(values) != 1:
        return f"expected one resource in the state, found {len(values)}"
    return argv, env


def prepare_statemgr(folder: Path) -> Path:
    """A workspace with one environment in ``running`` (created and deployed)."""
    from statemgr.layout import Layout
    from statemgr.store import FileStore

    workdir = folder / "ws"
    store = FileStore(Layout(workdir))
    store.create(sample_snapshot("web"))
    os.close(os.open(store.layout.lock_file("web"), os.O_WRONLY | os.O_CREAT, 0o600))
    return workdir


def check_output(argv: list[str], env: dict[str, str] | None, parse_json: bool) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr.strip()}")
    if parse_json:
        json.loads(done.stdout)


def measure(
    commands: dict[str, tuple[list[str], dict[str, str] | None]], *, runs: int
) -> dict[str, tuple[list[float], int]]:
    """Each command's wall times of ``runs`` runs, run in turns (after 2 warm-up turns), and
    the largest peak RSS seen (KiB)."""
    found = measure_all(commands, runs)
    return {label: (times, rss) for label, (times, rss, _cpu) in found.items()}


def measure_all(
    commands: dict[str, tuple[list[str], dict[str, str] | None]], runs: int
) -> dict[str, tuple[list[float], int, list[float]]]:
    """``measure``, with each run's CPU time (user + system, every thread) as well."""
    measured = {}
    found = run_in_turns(list(commands.values()), runs + 2)
    for (label, (argv, _env)), all_runs in zip(commands.items(), found, strict=True):
        results = all_runs[2:]
        failed = [result.status for result in results if result.status != 0]
        if failed:
            raise RuntimeError(f"{argv} exited {failed[0]}")
        rss = max(result.max_rss_kib for result in results)
        cpu = [result.cpu_seconds for result in results]
        measured[label] = ([result.seconds for result in results], rss, cpu)
    return measured


def import_profile(argv: list[str]) -> list[str]:
    """The biggest cumulative imports of one run (``-X importtime``), in ms."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:") :].split("|")]
        if not parts[1].isdigit():
            continue
        name = parts[2]
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((int(parts[1]), depth, name.strip()))
    top_level = sorted((r for r in rows if r[1] <= 1), reverse=True)[:8]
    return [f"{name} {cumulative / 1000:.1f} ms" for cumulative, _, name in top_level]


IMPORT_FLOORS = {
    "python -c 'import json'": "import json",
    "python -c 'import json, attrs'": "import json, attrs",
    "imports of status, no work": "import statemgr.cli, statemgr.cli.reading, statemgr.store.file",
}


def run(quick: bool) -> Section:
    section = Section(TITLE)
    runs = 3 if quick else 20
    with scratch("startup") as folder:
        statemgr = str(regular_install(folder / "venv"))
        python = str(folder / "venv" / "bin" / "python")
        workdir = prepare_statemgr(folder)
        terraform = prepare_terraform(folder)
        status = [statemgr, "--workdir", str(workdir), "status", "web", "--json"]
        reading = [
            status,
            [statemgr, "--workdir", str(workdir), "list", "--json"],
            [statemgr, "--workdir", str(workdir), "history", "web", "--json"],
            [statemgr, "--workdir", str(workdir), "output", "web", "--json"],
        ]
        commands = {
            "statemgr status NAME --json": status,
            "statemgr list --json": reading[1],
            "statemgr history NAME --json": reading[2],
            "statemgr output NAME --json": reading[3],
            "statemgr --help": [statemgr, "--help"],
        }
        for argv in commands.values():
            check_output(argv, None, parse_json="--json" in argv)
        baselines: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "python -c pass": ([python, "-c", "pass"], None)
        }
        if isinstance(terraform, str):
            section.note(f"terraform baseline skipped: {terraform}")
        else:
            baselines["terraform show -json"] = terraform
        everything = measure_all(
            {**baselines, **{name: (argv, None) for name, argv in commands.items()}}, runs
        )
        measured = {label: (times, rss) for label, (times, rss, _cpu) in everything.items()}
        for label, (times, rss, cpu) in everything.items():
            section.note(f"{label}: {spread(times)}, peak RSS {mib(rss)}, CPU {ms(median(cpu))}")
        python_times, python_rss = measured["python -c pass"]
        python_median = median(python_times)
        tf_median = median(measured["terraform show -json"][0]) if len(baselines) > 1 else None
        for name, argv in commands.items():
            times, rss = measured[name]
            value = median(times)
            if any(argv is found for found in reading):
                section.add(
                    name,
                    ms(value),
                    f"terraform show -json {ms(tf_median)}" if tf_median else "terraform: n/a",
                    f"{value / tf_median:.2f}x" if tf_median else "",
                    f"<= {STATUS_GOAL_RATIO}x terraform show",
                    value / tf_median <= STATUS_GOAL_RATIO if tf_median else None,
                )
                if tf_median and argv is status:
                    ours = median(everything[name][2])
                    theirs = median(everything["terraform show -json"][2])
                    section.add(
                        f"{name}: CPU time (user + system; context for a loaded machine)",
                        ms(ours),
                        f"terraform show -json {ms(theirs)}",
                        f"{ours / theirs:.2f}x",
                    )
            if argv is not status and any(argv is found for found in reading[2:]):
                continue  # history and output: the ratio to terraform says it
            section.add(
                name,
                ms(value),
                f"python -c pass {ms(python_median)}",
                f"{value / python_median:.2f}x",
            )
            section.add(
                f"{name}: peak RSS",
                mib(rss),
                f"python -c pass {mib(python_rss)}",
                f"{rss / python_rss:.2f}x",
                "< 40 MiB",
                rss < RSS_GOAL_KIB,
            )
        section.note("where the start-up goes (medians, same launcher, in turns):")
        floors = {label: ([python, "-c", code], None) for label, code in IMPORT_FLOORS.items()}
        for label, (times, _rss) in measure(floors, runs=runs).items():
            section.note(f"  {label}: {ms(median(times))}")
        section.note("biggest imports of status (-X importtime, cumulative, one run):")
        for line in import_profile([python, *status]):
            section.note(f"  {line}")
    return section


def main(argv: list[str] | None = None) -> int:
    return run_standalone(TITLE, run, argv)


if __name__ == "__main__":
    sys.exit(main())
