"""Scale: ``statemgr list --json`` over 10, 100, 1,000 and 10,000 environments, as a new
process each run: time, growth per environment, against a minimal reader in the same
interpreter (read every data/*/state.json, ``json.loads`` it, print name/state/updated_at;
no validation, no lock probe), which is the floor for a reader that parses every file.

The environments are made fast: one snapshot written by the library (``dumps``), its bytes
copied into data/NAME/state.json with the name and lineage replaced (plus an empty
state.lock, as a command leaves it). Run: ``python -m bench.scale [--quick]``.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    PYTHON,
    Section,
    env_name,
    median,
    ms,
    run_many,
    run_standalone,
    scratch,
    template_bytes,
    write_environments,
)
from bench.install import regular_install

TITLE = "scale (list)"
LIMIT_10K = 1.0
LINEAR_SLACK = 1.5  # marginal cost per environment may grow this much and still be "linear"

MINIMAL_READER = """
import json, os, sys
data = os.path.join(sys.argv[1], "data")
out = []
for name in sorted(os.listdir(data)):
    with open(os.path.join(data, name, "state.json"), "rb") as f:
        doc = json.loads(f.read())
    out.append({"name": name, "state": doc["state"]["name"], "updated_at": doc["updated_at"]})
sys.stdout.write(json.dumps(out, indent=2))
"""


def check_list(statemgr: str, workdir: Path, count: int) -> None:
    done = subprocess.run(
        [statemgr, "--workdir", str(workdir), "list", "--json"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"list exited {done.returncode}: {done.stderr.strip()}")
    entries = json.loads(done.stdout)
    errors = [entry for entry in entries if entry.get("error")]
    if len(entries) != count or errors:
        raise RuntimeError(f"list shows {len(entries)} environments ({errors[:1]}), not {count}")


def in_process_breakdown(workdir: Path) -> list[str]:
    """Where one ``list`` spends its time, measured inside one process (after a warm-up)."""
    from statemgr.service.status import ReadOnlyWorkspace

    workspace = ReadOnlyWorkspace(workdir)
    workspace.list()
    clock = time.perf_counter
    t0 = clock()
    names = workspace.store.names()
    t1 = clock()
    listings = workspace.store.list()
    t2 = clock()
    for listing in listings:
        workspace.store.holder(listing.name)
    t3 = clock()
    entries = workspace.list()
    t4 = clock()
    text = json.dumps([entry.to_json() for entry in entries], indent=2)
    t5 = clock()
    from statemgr.serialization import from_document

    documents = []
    for name in names:
        documents.append(json.loads(workspace.layout.state_file(name).read_bytes()))
    t6 = clock()
    for name, document in zip(names, documents, strict=True):
        from_document(document, name)
    t7 = clock()
    count = len(names)
    per = 1e6 / max(count, 1)
    return [
        f"in one process, {count} environments: "
        f"ReadOnlyWorkspace.list() {ms(t4 - t3)} ({(t4 - t3) * per:.0f} us each) = "
        f"store.list() {ms(t2 - t1)} (with one read of /proc/locks for all) + the rest; "
        f"a holder probe of each, as list once made, would add {ms(t3 - t2)}; "
        f"JSON out {ms(t5 - t4)} ({len(text)} chars)",
        f"  for comparison: read + json.loads of every state.json {ms(t6 - t5)}, the "
        f"converter's full structure of each (from_document) {ms(t7 - t6)}; finding the "
        f"folders (names()) {ms(t1 - t0)}",
    ]


def run(quick: bool) -> Section:
    section = Section(TITLE)
    sizes = [10, 100] if quick else [10, 100, 1000, 10000]
    template = template_bytes()
    results: dict[int, float] = {}
    with scratch("scale") as folder:
        statemgr = str(regular_install(folder / "venv"))  # as users install it
        workdir = folder / "ws"
        made = 0
        for size in sizes:
            started = time.perf_counter()
            write_environments(workdir, [env_name(i) for i in range(made, size)], template)
            section.note(
                f"{size} environments: made {size - made} in {time.perf_counter() - started:.2f}s"
            )
            made = size
            check_list(statemgr, workdir, size)
            runs = 2 if quick else (5 if size >= 10000 else 10)
            listed = run_many([statemgr, "--workdir", str(workdir), "list", "--json"], runs + 1)
            floor = run_many([PYTHON, "-c", MINIMAL_READER, str(workdir)], runs + 1)
            value = median([r.seconds for r in listed[1:]])
            baseline = median([r.seconds for r in floor[1:]])
            peak = max(r.max_rss_kib for r in listed[1:]) / 1024
            results[size] = value
            section.note(
                f"  list --json {ms(value)} (peak RSS {peak:.1f} MiB), minimal reader "
                f"{ms(baseline)}"
            )
            goal, met = ("", None)
            if size == 10000:
                goal, met = ("< 1 s", value < LIMIT_10K)
            section.add(
                f"list --json, {size:,} environments",
                ms(value),
                f"minimal reader {ms(baseline)}",
                f"{value / baseline:.2f}x",
                goal,
                met,
            )
        growth = []
        for smaller, larger in itertools.pairwise(sizes):
            marginal = (results[larger] - results[smaller]) / (larger - smaller)
            growth.append(marginal)
            section.note(f"  {smaller:,} -> {larger:,}: {marginal * 1e6:.0f} us per environment")
        if len(growth) >= 2:
            ratio = growth[-1] / growth[-2]
            section.add(
                "growth: cost per added environment, 1k->10k vs 100->1k",
                f"{growth[-1] * 1e6:.0f} us/env",
                f"{growth[-2] * 1e6:.0f} us/env",
                f"{ratio:.2f}x",
                f"linear (<= {LINEAR_SLACK}x)",
                ratio <= LINEAR_SLACK,
            )
        else:
            section.add(
                "growth: cost per added environment",
                f"{growth[-1] * 1e6:.0f} us/env",
                goal="linear",
            )
        for line in in_process_breakdown(workdir):
            section.note(line)
    return section


def main(argv: list[str] | None = None) -> int:
    return run_standalone(TITLE, run, argv)


if __name__ == "__main__":
    sys.exit(main())
