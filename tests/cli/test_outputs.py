"""Outputs through the installed ``statemgr``: $STATEMGR_OUTPUT, {outputs.KEY}, saved before
the next step starts, kept across a SIGKILL, the limits, ``statemgr output``, destroy."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import (
    STATEMGR,
    Result,
    children_of,
    installed,
    kill_quietly,
    start_installed,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")


def sm(workdir: Path, *argv: str) -> Result:
    return installed("--workdir", str(workdir), *argv)


def writes(name: str, text: str) -> dict[str, object]:
    """A step that appends ``text`` to its $STATEMGR_OUTPUT file."""
    return {"name": name, "run": ["sh", "-c", f"printf '{text}' >> \"$STATEMGR_OUTPUT\""]}


def status(workdir: Path, name: str = "web") -> dict[str, object]:
    result = sm(workdir, "status", name, "--json")
    assert result.code == 0, result
    document: dict[str, object] = result.json()
    return document


def test_an_output_is_saved_before_the_next_step_starts(workdir: Path) -> None:
    peek = f'"{STATEMGR}" --workdir "{workdir}" status web --json > seen.json'
    config = write_config(
        workdir,
        "web",
        provision=[
            writes("make_server", "host=10.0.0.5\\nport=8080\\n"),
            {"name": "peek", "run": peek},
            {"name": "use", "run": ["sh", "-c", 'echo "$0:$1 $STATEMGR_OUTPUT_host" > used.txt',
                                    "{outputs.host}", "{outputs.port}"]},
        ],
    )  # fmt: skip
    assert sm(workdir, "create", str(config)).code == 0
    done = sm(workdir, "provision", "web", "--json")
    assert done.code == 0, done
    assert done.json()["outputs"] == {"host": "10.0.0.5", "port": "8080"}
    seen = json.loads((workdir / "build" / "web" / "seen.json").read_text())
    assert seen["lock"]["command"] == "provision"  # read while provision held the lock
    assert seen["details"] == "Provisioning in progress at step: peek"
    assert seen["outputs"] == {"host": "10.0.0.5", "port": "8080"}
    used = (workdir / "build" / "web" / "used.txt").read_text()
    assert used == "10.0.0.5:8080 10.0.0.5\n"
    human = sm(workdir, "status", "web")
    assert "  outputs:  host=10.0.0.5\n            port=8080\n" in human.out


def test_the_output_command(workdir: Path) -> None:
    motd = "Welcome\\nEOF\\nto web"
    config = write_config(
        workdir,
        "web",
        provision=[
            writes("first", "port=80\\nhost=old\\n"),
            writes("second", f"host=203.0.113.7\\n\\nmotd<<END\\n{motd}\\nEND\\nempty=\\n"),
        ],
    )
    assert sm(workdir, "create", str(config)).code == 0
    nothing = sm(workdir, "output", "web")
    assert nothing.code == 0 and nothing.out == "" and "has no outputs" in nothing.err
    assert sm(workdir, "output", "web", "--json").json() == {}
    assert sm(workdir, "provision", "web").code == 0
    listed = sm(workdir, "output", "web")
    assert listed.code == 0, listed
    assert listed.out == (
        "empty=\nhost=203.0.113.7\nmotd<<EOF2\nWelcome\nEOF\nto web\nEOF2\nport=80\n"
    )
    expected = {"empty": "", "host": "203.0.113.7", "motd": "Welcome\nEOF\nto web", "port": "80"}
    assert sm(workdir, "output", "web", "--json").json() == expected
    bare = sm(workdir, "output", "web", "host")
    assert bare.code == 0 and bare.out == "203.0.113.7\n"
    assert sm(workdir, "output", "web", "motd").out == "Welcome\nEOF\nto web\n"
    assert sm(workdir, "output", "web", "motd", "--json").json() == "Welcome\nEOF\nto web"
    missing = sm(workdir, "output", "web", "address")
    assert missing.code == 2
    assert "no output 'address'" in missing.err and "empty, host, motd, port" in missing.err
    as_json = sm(workdir, "--json", "output", "web", "address")
    assert as_json.code == 2 and as_json.json()["error"]["kind"] == "usage"
    assert sm(workdir, "output", "ghost").code == 5


@pytest.fixture
def held(workdir: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """``statemgr provision web``: a step wrote outputs, the next one sleeps."""
    config = write_config(
        workdir,
        "web",
        provision=[
            writes("make_server", "host=10.0.0.5\\n"),
            {"name": "nap", "run": ["sleep", "30"]},
        ],
    )
    assert sm(workdir, "create", str(config)).code == 0
    process = start_installed("--workdir", str(workdir), "provision", "web")
    wait_for(lambda: status(workdir)["details"].endswith("at step: nap"), what="the nap step")
    children = children_of(process.pid)
    yield workdir, process
    kill_quietly(process.pid)
    process.communicate(timeout=10)
    for child in children:
        kill_quietly(child)


def test_a_sigkill_after_a_step_that_wrote_outputs_keeps_them(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    workdir, process = held
    process.kill()
    process.communicate(timeout=10)
    after = status(workdir)
    assert after["interrupted"] is True and after["outputs"] == {"host": "10.0.0.5"}
    recovered = sm(workdir, "recover", "web", "--json")
    assert recovered.code == 0, recovered
    assert recovered.json()["state"] == "provision_failed"
    assert recovered.json()["outputs"] == {"host": "10.0.0.5"}
    assert sm(workdir, "output", "web", "host").out == "10.0.0.5\n"


def test_a_sigterm_keeps_the_outputs_of_the_steps_that_succeeded(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    workdir, process = held
    process.terminate()
    process.communicate(timeout=20)
    assert process.returncode == 143
    after = status(workdir)
    assert after["state"] == "provision_failed" and after["outputs"] == {"host": "10.0.0.5"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("host=a\\nnot an output\\n",
         "line 2: expected KEY=VALUE or KEY<<DELIMITER, got 'not an output'"),
        ("2host=a\\n", "line 1: '2host=a': the key '2host' is not a name"),
        ("motd<<END\\nhello\\n",
         "line 1: 'motd<<END' starts a multi-line value that no line 'END' ends"),
        ("motd<<\\n", "line 1: 'motd<<' names no delimiter after '<<'"),
    ],
    ids=["no-equals", "bad-key", "unclosed", "no-delimiter"],
)  # fmt: skip
def test_a_malformed_output_file_fails_the_step(workdir: Path, text: str, message: str) -> None:
    config = write_config(
        workdir, "web", provision=[writes("first", "kept=yes\\n"), writes("bad", text)]
    )
    assert sm(workdir, "create", str(config)).code == 0
    failed = sm(workdir, "provision", "web")
    assert failed.code == 1
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict)
    assert failure["failed_step"] == "bad" and failure["error_kind"] == "error"
    assert message in failure["message"]
    assert status(workdir)["outputs"] == {"kept": "yes"}  # the failed step's are not kept


def test_a_value_over_64_kib_fails_the_step(workdir: Path) -> None:
    big = {"name": "big", "run": 'printf "v=%070000d\\n" 0 > "$STATEMGR_OUTPUT"'}
    config = write_config(workdir, "web", provision=[big])
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "provision", "web").code == 1
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict) and failure["error_kind"] == "error"
    assert "line 1: output 'v' is 70000 bytes, over the limit of 65536" in failure["message"]
    assert not list((workdir / "data" / "web" / "traces").glob("*.output"))  # removed


def test_an_environment_over_a_mebibyte_of_outputs_fails_the_step(workdir: Path) -> None:
    many = {
        "name": "many",
        "run": 'for k in $(seq 20); do printf "k$k=%060000d\\n" 0; done > "$STATEMGR_OUTPUT"',
    }
    config = write_config(workdir, "web", provision=[many])
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "provision", "web").code == 1
    after = status(workdir)
    failure = after["failure"]
    assert isinstance(failure, dict) and failure["error_kind"] == "error"
    assert "over the limit of 1048576 (1 MiB)" in failure["message"]
    assert after["outputs"] == {}


def test_a_missing_output_fails_the_step_at_its_start(workdir: Path) -> None:
    config = write_config(
        workdir, "web", provision=[{"name": "use", "run": ["touch", "{outputs.host}"]}]
    )
    assert sm(workdir, "create", str(config)).code == 0
    failed = sm(workdir, "provision", "web")
    assert failed.code == 1
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict) and failure["error_kind"] == "error"
    assert "{outputs.host}" in failure["message"] and "no earlier step wrote" in failure["message"]


STEPS_MODULE = """
def hand_on(context):
    with open(context.output_file, "a") as output:
        output.write("from_file=1\\nshared=file\\n")
    return {"address": "10.1.2.3", "shared": "dict"}


def bad(context):
    return {"port": 8080}
"""


def test_python_steps_return_their_outputs(workdir: Path) -> None:
    (workdir / "handing.py").write_text(STEPS_MODULE)
    config = write_config(
        workdir,
        "web",
        provision=[{"name": "hand_on", "call": "handing:hand_on"}],
        configure=[{"name": "bad", "call": "handing:bad"}],
    )
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "provision", "web").code == 0
    outputs = {"from_file": "1", "shared": "dict", "address": "10.1.2.3"}
    assert status(workdir)["outputs"] == outputs
    assert sm(workdir, "configure", "web").code == 1
    failure = status(workdir)["failure"]
    assert isinstance(failure, dict) and failure["error_kind"] == "error"
    assert "returned output 'port' is int, not a string" in failure["message"]


def test_a_completed_destroy_clears_the_outputs_and_a_failed_one_keeps_them(
    workdir: Path,
) -> None:
    config = write_config(
        workdir,
        "web",
        provision=[writes("make", "host=h\\n")],
        destroy=[
            writes("note", "gone=soon\\n"),
            {"name": "remove", "run": ["sh", "-c", "test -f allow-destroy"]},
        ],
    )
    assert sm(workdir, "create", str(config)).code == 0
    assert sm(workdir, "provision", "web").code == 0
    assert sm(workdir, "destroy", "web").code == 1
    assert status(workdir)["outputs"] == {"host": "h", "gone": "soon"}
    (workdir / "build" / "web" / "allow-destroy").touch()
    destroyed = sm(workdir, "destroy", "web", "--json")
    assert destroyed.code == 0, destroyed
    assert destroyed.json()["state"] == "destroyed" and destroyed.json()["outputs"] == {}
