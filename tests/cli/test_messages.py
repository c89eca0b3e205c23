"""Messages that never strand a user, through the installed ``statemgr``: the workspace
named when nothing is found, suggestions that work where they are pasted, config problems
one per line, calls checked at validate, per-command help, human times, the SSH user."""

from __future__ import annotations

import getpass
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from .support import (
    STATEMGR,
    Result,
    clean_env,
    failing_step,
    full_config,
    installed,
    ok_step,
    write_config,
)

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

SUGGESTION = re.compile(r"(?:^|[\s'(:])(statemgr(?: (?!#)[^\s'\"(),;]+)+)")


def suggestions(result: Result) -> list[str]:
    """The ``statemgr ...`` commands a result tells its reader to run."""
    found = []
    for line in (result.out + result.err).splitlines():
        found += [match.rstrip(".:") for match in SUGGESTION.findall(line)]
    return found


def paste(command: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Run a suggested command as a person pasting it into a shell in ``cwd`` would."""
    argv = shlex.split(command)
    assert argv[0] == "statemgr"
    done = subprocess.run(
        [str(STATEMGR), *argv[1:]],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def test_not_found_names_the_workspace_and_what_chose_it(workdir: Path, tmp_path: Path) -> None:
    here = installed("status", "web", cwd=workdir)
    assert here.code == 5
    assert f"looked in the workspace {workdir} (the current folder)" in here.err
    there = installed("--workdir", str(workdir), "status", "web", cwd=tmp_path)
    assert f"looked in the workspace {workdir} (--workdir)" in there.err
    env = clean_env(STATEMGR_WORKDIR=str(workdir))
    from_env = installed("status", "web", cwd=tmp_path, env=env)
    assert f"looked in the workspace {workdir} (set by STATEMGR_WORKDIR)" in from_env.err
    as_json = installed("status", "web", "--json", cwd=tmp_path, env=env)
    assert "STATEMGR_WORKDIR" in as_json.json()["error"]["message"]


def test_every_suggestion_works_when_pasted_from_another_folder(
    workdir: Path, tmp_path: Path
) -> None:
    config = write_config(
        workdir, "web", provision=[ok_step("one")], configure=[failing_step("boom")]
    )
    elsewhere = tmp_path
    w = ["--workdir", "ws"]
    outputs = [
        installed(*w, "create", "ws/web.toml", cwd=elsewhere),
        installed(*w, "deploy", "web", cwd=elsewhere),
        installed(*w, "status", "web", cwd=elsewhere),
        installed(*w, "status", "web", "--json", cwd=elsewhere),
        installed(*w, "deploy", "web.toml", cwd=elsewhere),
        installed(*w, "status", "nothere", cwd=elsewhere),
        installed(*w, "destroy", "web", cwd=elsewhere),
        installed(*w, "status", "web", cwd=elsewhere),  # destroyed: create it again
    ]
    assert config.is_file()
    found = {command for result in outputs for command in suggestions(result)}
    assert "statemgr --workdir ws status web" in found
    assert "statemgr --workdir ws deploy web" in found  # from 'deploy web.toml'
    assert "statemgr --workdir ws create ws/web.toml" in found  # the config, not CONFIG
    assert not [command for command in found if "--workdir" not in command]
    for command in sorted(found):
        if " destroy " in command or " purge " in command or " create " in command:
            continue  # they change it; tried below, each on a copy
        pasted = paste(command, elsewhere)
        assert pasted.code not in (2, 5), (command, pasted)


def test_config_problems_one_per_line_the_file_named_once(workdir: Path) -> None:
    (workdir / "bad.toml").write_text(
        '[environment]\nname = "Bad"\n\n[[provision.steps]]\nname = "x"\ntimeout = "ten"\n'
    )
    result = installed("validate", "bad.toml", cwd=workdir)
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[0] == "statemgr: error: invalid config bad.toml: 3 problems"
    assert len(lines) == 4 and all(line.startswith("  ") for line in lines[1:])
    assert sum("bad.toml" in line for line in lines) == 1
    assert any(line.startswith("  environment.name:") for line in lines)


def test_validate_imports_calls_and_warns_without_destroy_steps(workdir: Path) -> None:
    (workdir / "mysteps.py").write_text("def real(context):\n    print('called')\n")
    config = write_config(
        workdir,
        "web",
        provision=[
            {"name": "missing_module", "call": "nosuchmod:f"},
            {"name": "missing_function", "call": "mysteps:nothere"},
            {"name": "fine", "call": "mysteps:real"},
        ],
    )
    result = installed("validate", config.name, cwd=workdir)
    assert result.code == 2, result
    assert "provision.steps[0].call: cannot import module 'nosuchmod'" in result.err
    assert "provision.steps[1].call: call 'mysteps:nothere': 'mysteps' has no" in result.err
    assert "called" not in result.out + result.err  # imported, not called
    assert installed("create", config.name, cwd=workdir).code == 2
    good = write_config(workdir, "web", provision=[{"name": "fine", "call": "mysteps:real"}])
    checked = installed("validate", good.name, cwd=workdir)
    assert checked.code == 0 and checked.out.startswith("web.toml: valid")
    assert "warning: provision has steps but destroy has none" in checked.err
    assert installed("create", good.name, "-q", cwd=workdir).code == 0
    assert installed("provision", "web", "-q", cwd=workdir).code == 0
    destroyed = installed("destroy", "web", cwd=workdir)
    assert destroyed.code == 0
    assert "it has no destroy steps: nothing was torn down" in destroyed.err


def test_a_config_file_where_a_name_goes(workdir: Path) -> None:
    full_config(workdir)
    result = installed("deploy", "web.toml", cwd=workdir)
    assert result.code == 2
    assert "hint: 'deploy' takes an environment's name, not its config file: " in result.err
    assert "'statemgr deploy web'" in result.err


def test_help_has_an_example_and_only_the_options_a_command_honours(workdir: Path) -> None:
    status = installed("status", "--help")
    assert status.code == 0 and "example:\n  statemgr status web --json" in status.out
    assert "--lock-timeout" not in status.out and "--yes" not in status.out
    destroy = installed("destroy", "--help")
    assert "--lock-timeout" in destroy.out and "-y, --yes" in destroy.out
    assert "--workdir DIR  the workspace" not in installed("demo", "--help").out
    assert "--format" in (diagram := installed("diagram", "--help").out)
    assert "Graphviz" in diagram
    full_config(workdir)
    assert installed("create", "web.toml", "-q", cwd=workdir).code == 0
    after = installed("status", "web", "--lock-timeout", "5", cwd=workdir)
    assert after.code == 2 and "unrecognized arguments: --lock-timeout" in after.err
    assert installed("--lock-timeout", "5", "status", "web", cwd=workdir).code == 0


def test_human_times_are_local_to_the_second_with_an_age(workdir: Path) -> None:
    full_config(workdir)
    env = clean_env(TZ="Asia/Tokyo")
    assert installed("create", "web.toml", cwd=workdir, env=env).code == 0
    shown = installed("status", "web", cwd=workdir, env=env).out
    assert re.search(r"since: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST \(\d+ s ago\)", shown), shown
    listed = installed("list", cwd=workdir, env=env).out
    assert re.search(r"web +created +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST", listed), listed
    as_json = installed("status", "web", "--json", cwd=workdir, env=env).json()
    assert as_json["since"].endswith("+00:00")  # JSON unchanged


def test_the_default_ssh_user_is_the_user_running_statemgr(workdir: Path) -> None:
    (workdir / "id").write_text("key")
    (workdir / "id.pub").write_text("key")
    config = write_config(workdir, "web", provision=[ok_step("one")])
    config.write_text(
        config.read_text().replace(
            "[[provision", '[ssh]\nprivate_key = "id"\npublic_key = "id.pub"\n\n[[provision', 1
        )
    )
    assert installed("create", "web.toml", cwd=workdir).code == 0
    state = (workdir / "data" / "web" / "state.json").read_text()
    assert f'"username": "{getpass.getuser()}"' in state
    assert "torrust" not in state
