"""Phase overhead: a provision phase of 50 steps that each run ``true``, through the library
(``Workspace.run_phase``) and through the CLI (``statemgr provision NAME``), against the
same 50 commands run bare: 50 separate ``subprocess.run(["true"])`` from Python, and a sh
loop that runs /bin/true 50 times (a fork + exec each). statemgr's overhead per step is
(phase - bare) / 50: its saves (one durable write per step, to record the step in
flight), the trace file, the step's environment and process group, the progress events.
Run: ``python -m bench.phase_overhead [--quick]``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    Section,
    median,
    ms,
    ms3,
    run_many,
    run_standalone,
    scratch,
    statemgr_executable,
)

TITLE = "phase overhead"
GOAL_PER_STEP = 0.005


def write_config(folder: Path, name: str, steps: int, run: str = '["true"]') -> Path:
    lines = ["[environment]", f'name = "{name}"', ""]
    for index in range(steps):
        lines += ["[[provision.steps]]", f'name = "step_{index}"', f"run = {run}", ""]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines))
    return path


def library_phase(
    workdir: Path, configs: Path, name: str, steps: int, run: str = '["true"]'
) -> float:
    """Seconds of ``Workspace.run_phase`` on a fresh environment (created outside the timing)."""
    from statemgr.service.workspace import Workspace

    workspace = Workspace(workdir)
    workspace.create(write_config(configs, name, steps, run))
    started = time.perf_counter()
    snapshot = workspace.run_phase(name, "provision")
    seconds = time.perf_counter() - started
    if snapshot.state.name.value != "provisioned":
        raise RuntimeError(f"{name} ended {snapshot.state.name.value}")
    return seconds


def cli_phase(workdir: Path, configs: Path, name: str, steps: int, statemgr: str) -> float:
    """Seconds of ``statemgr provision NAME`` as a new process (start-up included)."""
    from statemgr.service.workspace import Workspace

    Workspace(workdir).create(write_config(configs, name, steps))
    (result,) = run_many([statemgr, "--workdir", str(workdir), "-q", "provision", name], 1)
    if result.status != 0:
        raise RuntimeError(f"statemgr provision {name} exited {result.status}")
    return result.seconds


def python_loop(steps: int, argv: tuple[str, ...] = ("true",)) -> float:
    started = time.perf_counter()
    for _ in range(steps):
        subprocess.run(argv, check=True)
    return time.perf_counter() - started


def wait_latency(section: Section, workdir: Path, configs: Path, quick: bool) -> None:
    """Steps that take a while (``sleep``): how late statemgr notices that a step ended."""
    steps, seconds, reps = (2, 0.1, 1) if quick else (5, 0.2, 3)
    run = f'["sleep", "{seconds}"]'
    library, bare = [], []
    for rep in range(reps):
        library.append(library_phase(workdir, configs, f"sleep{rep}", steps, run))
        bare.append(python_loop(steps, ("sleep", str(seconds))))
    extra = (median(library) - median(bare)) / steps
    section.note(
        f"{steps} steps of sleep {seconds}: library {ms(median(library))}, "
        f"{steps} x subprocess.run {ms(median(bare))}"
    )
    section.add(
        f"library: overhead per step, steps of sleep {seconds}",
        ms3(extra),
        f"subprocess.run {ms(median(bare) / steps)}/step",
        "",
        "< 5 ms a step",
        extra < GOAL_PER_STEP,
    )


def run(quick: bool) -> Section:
    section = Section(TITLE)
    steps = 5 if quick else 50
    reps = 1 if quick else 7
    statemgr = statemgr_executable()
    shell = f"i=0; while [ $i -lt {steps} ]; do /bin/true; i=$((i+1)); done"
    with scratch("phase") as folder:
        workdir, configs = folder / "ws", folder / "configs"
        configs.mkdir()
        library_phase(workdir, configs, "warm", steps)
        library, cli, cli_empty, bare, sh = [], [], [], [], []
        for rep in range(reps):  # interleaved, so that drift hits all alike
            library.append(library_phase(workdir, configs, f"lib{rep}", steps))
            cli.append(cli_phase(workdir, configs, f"cli{rep}", steps, statemgr))
            cli_empty.append(cli_phase(workdir, configs, f"empty{rep}", 0, statemgr))
            bare.append(python_loop(steps))
            sh += [r.seconds for r in run_many(["sh", "-c", shell], 1)]
        wait_latency(section, workdir, configs, quick)
    lib_m, cli_m, bare_m, sh_m = (median(v) for v in (library, cli, bare, sh))
    fixed = median(cli_empty)
    per_step = (lib_m - bare_m) / steps
    section.note(
        f"{steps} steps, {reps} runs each (medians): library phase {ms(lib_m)}, CLI "
        f"{ms(cli_m)}, {steps} x subprocess.run(['true']) {ms(bare_m)}, sh loop of "
        f"/bin/true {ms(sh_m)}"
    )
    section.note(
        f"per step: library {ms3(lib_m / steps)}, python bare {ms3(bare_m / steps)}, "
        f"sh bare {ms3(sh_m / steps)}"
    )
    section.add(
        f"library: Workspace.run_phase, {steps} true steps",
        ms(lib_m),
        f"{steps} x subprocess.run {ms(bare_m)}",
        f"{lib_m / bare_m:.2f}x",
    )
    section.add(
        "library: overhead per step",
        ms3(per_step),
        f"subprocess.run {ms3(bare_m / steps)}/step",
        "",
        "< 5 ms a step",
        per_step < GOAL_PER_STEP,
    )
    section.note(f"CLI provision of a phase with no steps (the fixed cost): {ms(fixed)}")
    section.add(
        f"CLI: statemgr provision, {steps} true steps (start-up included)",
        ms(cli_m),
        f"sh loop of /bin/true {ms(sh_m)}",
        f"{cli_m / sh_m:.2f}x",
    )
    cli_per_step = (cli_m - fixed - sh_m) / steps
    section.add(
        "CLI: overhead per step (over a 0-step provision)",
        ms3(cli_per_step),
        f"sh {ms3(sh_m / steps)}/step; fixed {ms(fixed)}",
        "",
        "< 5 ms a step",
        cli_per_step < GOAL_PER_STEP,
    )
    amortized = (cli_m - sh_m) / steps
    section.add(
        f"CLI: overhead per step, start-up spread over {steps} steps",
        ms3(amortized),
        f"sh {ms3(sh_m / steps)}/step",
    )
    return section


def main(argv: list[str] | None = None) -> int:
    return run_standalone(TITLE, run, argv)


if __name__ == "__main__":
    sys.exit(main())
