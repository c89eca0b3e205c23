"""What every benchmark shares: the result rows, timing of child processes, the scratch
folder, the machine description and a fast way to fill a workspace with environments.

Benchmarks never touch the network and never leave files behind: every one of them works
in a temporary folder (under ``$STATEMGR_BENCH_DIR`` when set, else the system temp folder)
that is removed at the end, and says which file system that folder is on.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statemgr.model import Snapshot

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MIB = 1024 * 1024


# --- results ----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the summary table."""

    measure: str
    figure: str
    baseline: str = ""
    ratio: str = ""
    goal: str = ""
    met: bool | None = None  # None: no goal, or not evaluated in this run

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "n/a" if self.goal else ""
        return "yes" if self.met else "**no**"


@dataclass
class Section:
    """What one benchmark found: table rows plus free-form detail lines."""

    title: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def add(
        self,
        measure: str,
        figure: str,
        baseline: str = "",
        ratio: str = "",
        goal: str = "",
        met: bool | None = None,
    ) -> Row:
        row = Row(measure, figure, baseline, ratio, goal, met)
        self.rows.append(row)
        return row

    def note(self, text: str) -> None:
        self.details.append(text)
        print(f"  {text}", flush=True)


def table(sections: Sequence[Section]) -> str:
    """The markdown table of every section's rows."""
    lines = [
        "| benchmark | measure | figure | baseline | ratio | goal | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for section in sections:
        for row in section.rows:
            cells = (
                section.title,
                row.measure,
                row.figure,
                row.baseline,
                row.ratio,
                row.goal,
                row.verdict,
            )
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def print_section(section: Section) -> None:
    print(f"\n## {section.title}\n")
    print(table([section]))
    print(flush=True)


def arguments(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="few iterations and small sizes (for CI)"
    )
    return parser.parse_args(argv)


def run_standalone(
    title: str, run: Callable[[bool], Section], argv: Sequence[str] | None = None
) -> int:
    """``python -m bench.NAME [--quick]``: run one benchmark and print its table."""
    options = arguments(title, argv)
    print(f"# {title}{' (quick)' if options.quick else ''}")
    print(f"  scratch folder: {describe_folder(scratch_parent())}", flush=True)
    section = run(options.quick)
    print_section(section)
    return 0


# --- numbers ----------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def ms3(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def spread(values: Sequence[float]) -> str:
    """``median (min..max, n=N)`` in milliseconds."""
    return (
        f"{median(values) * 1000:.1f} ms (min {min(values) * 1000:.1f}, "
        f"max {max(values) * 1000:.1f}, n={len(values)})"
    )


@dataclass
class ProcessRun:
    seconds: float
    max_rss_kib: int
    status: int
    cpu_seconds: float = 0.0  # user + system time of the child (all its threads)


# Runs a command N times and reports, per run, the wall time and the child's peak RSS.
# It runs in its own small interpreter (-I -S) and forks (not vfork/posix_spawn) before
# exec: the kernel charges a child the peak RSS of the memory it had when it exec'd, so a
# child forked straight from this (bigger) process would report our RSS, not its own.
# Floor: about 5 MiB (the anonymous memory of the launcher); every command here is above.
_LAUNCHER = """
import os, sys, time
runs = int(sys.argv[1])
argv = sys.argv[2:]
devnull = os.open(os.devnull, os.O_RDWR)
found = []
for _ in range(runs):
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    found.append([seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
                  usage.ru_utime + usage.ru_stime])
import json
print(json.dumps(found))
"""


# The same, for several commands in turns: run 1 of each, then run 2 of each, ... so that
# whatever else the machine does at a moment hits every command alike (a same-run ratio).
_TURNS_LAUNCHER = """
import json, os, sys, time
runs = int(sys.argv[1])
commands = json.loads(sys.stdin.read())
devnull = os.open(os.devnull, os.O_RDWR)
found = [[] for _ in commands]
for _ in range(runs):
    for index, (argv, env) in enumerate(commands):
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - started
        found[index].append([seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
                             usage.ru_utime + usage.ru_stime])
print(json.dumps(found))
"""


def run_in_turns(
    commands: Sequence[tuple[Sequence[str], dict[str, str] | None]], runs: int
) -> list[list[ProcessRun]]:
    """Each of ``commands`` (argv, environment or None for this one) ``runs`` times, in
    turns; the runs of each command, as ``run_many`` measures them."""
    import json
    import subprocess

    listed = [
        [
            [shutil.which(argv[0]) or argv[0], *argv[1:]],
            dict(env if env is not None else os.environ),
        ]
        for argv, env in commands
    ]
    done = subprocess.run(
        [PYTHON, "-I", "-S", "-c", _TURNS_LAUNCHER, str(runs)],
        input=json.dumps(listed),
        capture_output=True,
        text=True,
        check=True,
    )
    return [[ProcessRun(*run) for run in runs_of] for runs_of in json.loads(done.stdout)]


def run_many(argv: Sequence[str], runs: int, env: dict[str, str] | None = None) -> list[ProcessRun]:
    """Run ``argv`` ``runs`` times, one after the other (stdio on /dev/null).

    Each run's wall time (fork to reaped) and peak RSS (``ru_maxrss`` of wait4, KiB) are
    measured by a small launcher process, so neither includes this process's own cost.
    """
    executable = shutil.which(argv[0]) or argv[0]
    import json
    import subprocess

    done = subprocess.run(
        [PYTHON, "-I", "-S", "-c", _LAUNCHER, str(runs), executable, *argv[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [ProcessRun(*found) for found in json.loads(done.stdout)]


# --- where and on what ------------------------------------------------------------------


def scratch_parent() -> Path:
    return Path(os.environ.get("STATEMGR_BENCH_DIR") or tempfile.gettempdir()).absolute()


@contextlib.contextmanager
def scratch(label: str) -> Iterator[Path]:
    """A fresh temporary folder, removed afterwards whatever happens."""
    parent = scratch_parent()
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"statemgr-bench-{label}-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def mount_of(path: Path) -> tuple[str, str, str]:
    """(mount point, device, file system type) of ``path``, from /proc/mounts."""
    best = ("/", "?", "?")
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return best
    resolved = str(path.resolve())
    length = -1
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        device, point, kind = fields[0], fields[1].replace("\\040", " "), fields[2]
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) > length:
            best, length = (point, device, kind), len(point)
    return best


def disk_kind(device: str) -> str:
    """What the kernel says about a block device: driver and rotational flag."""
    name = Path(device).name
    block = Path("/sys/block") / name
    if not block.exists():
        return device
    parts = [name]
    with contextlib.suppress(OSError):
        driver = os.path.basename(os.readlink(block / "device" / "driver"))
        parts.append(f"driver {driver}")
    with contextlib.suppress(OSError):
        rotational = (block / "queue" / "rotational").read_text().strip()
        parts.append(f"kernel flag rotational={rotational} (virtual disks often say 1)")
    return ", ".join(parts)


def describe_folder(path: Path) -> str:
    point, device, kind = mount_of(path)
    return f"{path} ({kind} on {device} mounted at {point}; {disk_kind(device)})"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> list[str]:
    """Lines describing the machine and the folders the benchmarks used."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"CPU: {cpu_model()}, {cpus} CPUs usable (nproc)",
        f"Python: {platform.python_implementation()} {platform.python_version()} ({PYTHON})",
        f"OS: {platform.system()} {platform.release()}",
        f"scratch folder: {describe_folder(scratch_parent())}",
        f"workdir (repo): {describe_folder(REPO)}",
    ]


def statemgr_executable() -> str:
    """The installed ``statemgr`` script next to this interpreter (else the one on PATH)."""
    beside = Path(PYTHON).parent / "statemgr"
    if beside.exists():
        return str(beside)
    found = shutil.which("statemgr")
    if found is None:
        raise SystemExit("statemgr is not installed: pip install -e . first")
    return found


# --- environments, fast -----------------------------------------------------------------

TEMPLATE_NAME = "zzbenchtemplatezz"


def sample_snapshot(name: str, *, steps: int = 2, transitions: int = 7) -> Snapshot:
    """A realistic snapshot built with the library: SSH, a few steps, some history.

    With the default ``transitions`` it has gone created -> ... -> running, as after a
    ``deploy``.
    """
    from statemgr.model import (
        Environment,
        Phase,
        Phases,
        SshCredentials,
        StateName,
        Step,
        new_snapshot,
    )

    def phase_steps(phase: Phase) -> tuple[Step, ...]:
        return tuple(
            Step(name=f"{phase.value}_{i}", run=("true",), env={"TF_VAR_env": "{name}"})
            for i in range(steps)
        )

    environment = Environment.new(
        name,
        phases=Phases(**{phase.value: phase_steps(phase) for phase in Phase}),
        ssh=SshCredentials(private_key="/srv/keys/id_ed25519", public_key="/srv/keys/id.pub"),
        config_file="/srv/deploy/env.toml",
    )
    snapshot = new_snapshot(environment, "create", 4242, "bench-host")
    path = [
        (StateName.provisioning, "start_provisioning"),
        (StateName.provisioned, "provisioned"),
        (StateName.configuring, "start_configuring"),
        (StateName.configured, "configured"),
        (StateName.releasing, "start_releasing"),
        (StateName.released, "released"),
        (StateName.running, "start_running"),
    ]
    for state, event in path[:transitions]:
        snapshot = snapshot.transitioned(state, event, "deploy", 4242, "bench-host")
    return snapshot


def template_bytes(steps: int = 2, transitions: int = 7) -> bytes:
    """state.json bytes of a sample snapshot named ``TEMPLATE_NAME`` (written by the library)."""
    from statemgr.serialization import dumps

    return dumps(sample_snapshot(TEMPLATE_NAME, steps=steps, transitions=transitions))


def env_name(index: int) -> str:
    return f"env-{index:05d}"


def write_environments(workdir: Path, names: Sequence[str], template: bytes) -> None:
    """data/NAME/state.json (+ an empty state.lock, as after a command) for every name.

    The bytes are the library's own (``template``) with the name and lineage replaced, so
    each file is what ``statemgr create`` + ``deploy`` would have left, minus the fsyncs.
    """
    data = workdir / "data"
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    lineage = _lineage_in(template)
    for name in names:
        folder = data / name
        folder.mkdir(mode=0o700)
        body = template.replace(TEMPLATE_NAME.encode(), name.encode())
        body = body.replace(lineage, str(uuid.uuid4()).encode())
        state = os.open(folder / "state.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(state, body)
        finally:
            os.close(state)
        os.close(os.open(folder / "state.lock", os.O_WRONLY | os.O_CREAT, 0o600))


def _lineage_in(template: bytes) -> bytes:
    import json

    return str(json.loads(template)["lineage"]).encode()
