"""The environment config: good configs load; every bad one names the file and key path."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import pytest

from statemgr.config import load_config
from statemgr.errors import ConfigError, InvalidName, UsageError
from statemgr.model import Environment, Phases, SshCredentials, Step

HEAD = '[environment]\nname = "web"\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A config folder with an SSH key pair under keys/."""
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "id_ed25519").write_text("private\n")
    (tmp_path / "keys" / "id_ed25519.pub").write_text("public\n")
    return tmp_path


SSH = '[ssh]\nprivate_key = "keys/id_ed25519"\npublic_key = "keys/id_ed25519.pub"\n'


def write(folder: Path, text: str, name: str = "env.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path | str) -> ConfigError:
    """The ConfigError of loading ``path``, checked to name the file."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.path == os.fspath(path)
    assert str(error).startswith(f"invalid config {os.fspath(path)}: ")
    assert error.exit_code == 2 and isinstance(error, UsageError)
    assert error.problems
    return error


def only_problem(folder: Path, text: str, key: str) -> str:
    """The one problem of config ``text``, checked to be at ``key``."""
    problems = refused(write(folder, text)).problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{key}: "), problems
    return problems[0]


# --- good configs ---------------------------------------------------------------------------

COMPLETE = """
[environment]
name = "staging"

[ssh]
username = "deploy"
private_key = "keys/id_ed25519"
public_key = "KEYS_DIR/id_ed25519.pub"
port = 2222

[[provision.steps]]
name = "tofu_init"
run = ["tofu", "init", "-input=false"]
cwd = "tofu"
timeout = 120

[[provision.steps]]
name = "tofu_apply"
run = ["tofu", "apply", "-auto-approve", "-var", "name={name}"]
cwd = "tofu"
timeout = 600.5
env = { TF_VAR_env = "{name}", TF_VAR_ssh_key = "{ssh_public_key}", TF_DATA_DIR = "{data_dir}/tf" }

[[configure.steps]]
name = "ansible"
run = "ansible-playbook -u {ssh_username} --private-key {ssh_private_key} -e p={ssh_port} a.yml"
cwd = "{workdir}/ansible"

[[release.steps]]
name = "upload"
call = "deploy.release:upload"

[[run.steps]]
name = "start"
run = ["systemctl", "start", "app"]

[destroy]
steps = [
  { name = "tofu_destroy", run = ["tofu", "destroy", "-auto-approve"], cwd = "{build_dir}/tofu" },
]
"""


def test_a_complete_config_with_every_key_loads(folder: Path) -> None:
    """Tried: every key of every section, a relative and an absolute key path, all phases."""
    text = COMPLETE.replace("KEYS_DIR", str(folder / "keys"))
    path = write(folder, text)
    assert load_config(path) == Environment(
        name="staging",  # type: ignore[arg-type]
        data_dir="data/staging",
        build_dir="build/staging",
        phases=Phases(
            provision=(
                Step("tofu_init", run=("tofu", "init", "-input=false"), cwd="tofu", timeout=120),
                Step(
                    "tofu_apply",
                    run=("tofu", "apply", "-auto-approve", "-var", "name={name}"),
                    cwd="tofu",
                    timeout=600.5,
                    env={
                        "TF_VAR_env": "{name}",
                        "TF_VAR_ssh_key": "{ssh_public_key}",
                        "TF_DATA_DIR": "{data_dir}/tf",
                    },
                ),
            ),
            configure=(
                Step(
                    "ansible",
                    run="ansible-playbook -u {ssh_username} --private-key {ssh_private_key} "
                    "-e p={ssh_port} a.yml",
                    cwd="{workdir}/ansible",
                ),
            ),
            release=(Step("upload", call="deploy.release:upload"),),
            run=(Step("start", run=("systemctl", "start", "app")),),
            destroy=(
                Step(
                    "tofu_destroy",
                    run=("tofu", "destroy", "-auto-approve"),
                    cwd="{build_dir}/tofu",
                ),
            ),
        ),
        ssh=SshCredentials(
            private_key=str(folder / "keys" / "id_ed25519"),
            public_key=str(folder / "keys" / "id_ed25519.pub"),
            username="deploy",
            port=2222,
        ),
        config_file=str(path),
    )


def test_the_contracts_example_loads(folder: Path) -> None:
    """Tried: the example config of contract.md, as it is written there."""
    text = """
[environment]
name = "staging"

[ssh]                      # optional; recorded and handed to steps; key files must exist at create
username = "torrust"       # default "torrust"
private_key = "keys/id_ed25519"
public_key  = "keys/id_ed25519.pub"
port = 22                  # default 22

[[provision.steps]]
name = "tofu_apply"                        # ^[a-z][a-z0-9_]*$, unique in its phase
run = ["tofu", "apply", "-auto-approve"]   # argv, no shell; a plain string runs via sh -c
cwd = "tofu"                               # relative to {build_dir}; default {build_dir}
timeout = 600                              # seconds; default 3600
env = { TF_VAR_env = "{name}" }
"""
    environment = load_config(write(folder, text))
    (step,) = environment.phases.provision
    assert step == Step(
        "tofu_apply",
        run=("tofu", "apply", "-auto-approve"),
        cwd="tofu",
        timeout=600.0,
        env={"TF_VAR_env": "{name}"},
    )


def test_a_minimal_config_gets_the_defaults(folder: Path) -> None:
    """Tried: only [environment] name; then [ssh] with only the key paths; a bare step."""
    path = write(folder, HEAD)
    environment = load_config(path)
    assert environment == Environment.new("web", config_file=str(path))
    assert environment.ssh is None and environment.phases == Phases()

    with_ssh = load_config(write(folder, HEAD + SSH + '[[run.steps]]\nname = "a"\nrun = "true"\n'))
    assert with_ssh.ssh is not None
    assert (with_ssh.ssh.username, with_ssh.ssh.port) == (getpass.getuser(), 22)
    assert with_ssh.phases.run == (Step("a", run="true", timeout=3600.0),)


def test_paths_are_absolute_and_keys_resolve_against_the_config_folder(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Tried: a relative config path, from a working directory that is not the config's."""
    write(folder, HEAD + SSH)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    relative = os.path.relpath(folder / "env.toml", elsewhere)
    environment = load_config(relative)
    assert environment.config_file == str(folder / "env.toml")
    assert environment.ssh is not None
    assert environment.ssh.private_key == str(folder / "keys" / "id_ed25519")


def test_a_key_path_may_start_at_home(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: private_key = "~/keys/id_ed25519" with HOME set to the config folder."""
    monkeypatch.setenv("HOME", str(folder))
    text = HEAD + '[ssh]\nprivate_key = "~/keys/id_ed25519"\npublic_key = "keys/id_ed25519.pub"\n'
    environment = load_config(write(folder, text))
    assert environment.ssh is not None
    assert environment.ssh.private_key == str(folder / "keys" / "id_ed25519")


@pytest.mark.parametrize(
    "text",
    ["echo ${HOME} {Name} {} {1} { name }", "awk '{print $1}'", "x={a-b} {A_B} {ssh-port}"],
)
def test_braces_that_are_not_placeholders_pass(folder: Path, text: str) -> None:
    """Tried: shell variables, awk programs and braces around non-placeholder words."""
    step = f'[[run.steps]]\nname = "a"\nrun = "{text}"\n'
    assert load_config(write(folder, HEAD + step)).phases.run[0].run == text


# --- the file itself ------------------------------------------------------------------------


def test_a_missing_file(folder: Path) -> None:
    """Tried: a path where no file is."""
    error = refused(folder / "nope.toml")
    assert error.problems == (f"no such file ({folder / 'nope.toml'})",)


def test_a_folder_instead_of_a_file(folder: Path) -> None:
    """Tried: the path of a folder."""
    assert "folder" in refused(folder / "keys").problems[0]


def test_an_unreadable_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: a file with mode 000 (as root, who reads it anyway, opening raises EACCES)."""
    path = write(folder, HEAD)
    path.chmod(0)
    if os.geteuid() == 0:

        def denied(*_args: object, **_kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("statemgr.config.limits._open", denied)
    assert refused(path).problems == ("cannot read it: Permission denied",)


def test_a_file_that_is_not_utf8(folder: Path) -> None:
    """Tried: Latin-1 bytes."""
    path = folder / "env.toml"
    path.write_bytes(b'[environment]\nname = "caf\xe9"\n')
    assert "not UTF-8" in refused(path).problems[0]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[environment]\nname = "web\n', "line 2, column 12"),
        ("[environment]\nname = \n", "line 2, column 8"),
        ('[environment]\nname = "a"\nname = "b"\n', "line 3"),
        ("[[provision.steps]\n", "line 1"),
    ],
    ids=["unterminated-string", "no-value", "duplicate-key", "bad-table-header"],
)
def test_invalid_toml_names_line_and_column(folder: Path, text: str, where: str) -> None:
    """Tried: four kinds of TOML syntax error."""
    (problem,) = refused(write(folder, text)).problems
    assert problem.startswith("not valid TOML: ")
    assert where in problem


# --- one bad key at a time ------------------------------------------------------------------

STEP = '[[provision.steps]]\nname = "apply"\nrun = ["tofu", "apply"]\n'
A_STEP = HEAD + '[[run.steps]]\nname = "a"\n'  # a run step still without run or call
BAD = {
    # id: (config text, key path, text the problem must contain)
    "no environment": ("", "environment", "missing"),
    "environment not a table": ('environment = "web"\n', "environment", "expected a table"),
    "no name": ("[environment]\n", "environment.name", InvalidName.RULE),
    "name not a string": ("[environment]\nname = 7\n", "environment.name", "got 7"),
    "typo at the top": (HEAD + "[provison]\n", "provison", "did you mean 'provision'?"),
    "unknown table": (HEAD + "[vars]\nx = 1\n", "vars", "unknown key"),
    "typo in environment": (HEAD + "nmae = 1\n", "environment.nmae", "did you mean 'name'?"),
    "typo in ssh": (HEAD + SSH + "prot = 22\n", "ssh.prot", "did you mean 'port'?"),
    "ssh not a table": ('ssh = "deploy"\n' + HEAD, "ssh", 'expected a table, got "deploy"'),
    "port 0": (HEAD + SSH + "port = 0\n", "ssh.port", "1 to 65535, got 0"),
    "port 65536": (HEAD + SSH + "port = 65536\n", "ssh.port", "got 65536"),
    "port string": (HEAD + SSH + 'port = "22"\n', "ssh.port", 'got "22"'),
    "port bool": (HEAD + SSH + "port = true\n", "ssh.port", "got true"),
    "port float": (HEAD + SSH + "port = 22.0\n", "ssh.port", "got 22.0"),
    "username empty": (HEAD + SSH + 'username = ""\n', "ssh.username", "non-empty string"),
    "username number": (HEAD + SSH + "username = 5\n", "ssh.username", "got 5"),
    "no private key": (
        HEAD + '[ssh]\npublic_key = "keys/id_ed25519.pub"\n',
        "ssh.private_key",
        "missing",
    ),
    "no public key": (
        HEAD + '[ssh]\nprivate_key = "keys/id_ed25519"\n',
        "ssh.public_key",
        "missing",
    ),
    "key is a folder": (
        HEAD + '[ssh]\nprivate_key = "keys"\npublic_key = "keys/id_ed25519.pub"\n',
        "ssh.private_key",
        "not a file",
    ),
    "phase not a table": ("provision = 5\n" + HEAD, "provision", "[[provision.steps]]"),
    "steps not an array": (HEAD + '[provision]\nsteps = "x"\n', "provision.steps", "array"),
    "step not a table": (HEAD + "[provision]\nsteps = [1]\n", "provision.steps[0]", "got 1"),
    "typo in phase": (HEAD + '[[provision.step]]\nname = "a"\n', "provision.step", "'steps'"),
    "typo in step": (HEAD + STEP + "timout = 5\n", "provision.steps[0].timout", "'timeout'"),
    "step without name": (
        HEAD + '[[provision.steps]]\nrun = "x"\n',
        "provision.steps[0].name",
        "missing",
    ),
    "step name upper": (
        HEAD + '[[run.steps]]\nname = "Apply"\nrun = "x"\n',
        "run.steps[0].name",
        "^[a-z][a-z0-9_]*$",
    ),
    "step name digit": (
        HEAD + '[[run.steps]]\nname = "1st"\nrun = "x"\n',
        "run.steps[0].name",
        'got "1st"',
    ),
    "step name dash": (
        HEAD + '[[run.steps]]\nname = "a-b"\nrun = "x"\n',
        "run.steps[0].name",
        'got "a-b"',
    ),
    "step name newline": (
        HEAD + '[[run.steps]]\nname = "a\\n"\nrun = "x"\n',
        "run.steps[0].name",
        "got",
    ),
    "neither run nor call": (A_STEP, "run.steps[0]", "got neither"),
    "run and call": (HEAD + STEP + 'call = "a.b:c"\n', "provision.steps[0]", "got both"),
    "run empty list": (A_STEP + "run = []\n", "run.steps[0].run", "got an array"),
    "run empty string": (A_STEP + 'run = ""\n', "run.steps[0].run", 'got ""'),
    "run blank string": (A_STEP + 'run = "  "\n', "run.steps[0].run", 'got "  "'),
    "run number": (A_STEP + "run = 5\n", "run.steps[0].run", "got 5"),
    "run list with number": (
        A_STEP + 'run = ["x", 5]\n',
        "run.steps[0].run[1]",
        "expected a string, got 5",
    ),
    "run list empty program": (A_STEP + 'run = ["", "x"]\n', "run.steps[0].run[0]", "program"),
    "call without function": (
        A_STEP + 'call = "deploy.steps"\n',
        "run.steps[0].call",
        '"package.module:function"',
    ),
    "call two colons": (A_STEP + 'call = "a:b:c"\n', "run.steps[0].call", 'got "a:b:c"'),
    "call empty function": (A_STEP + 'call = "a.b:"\n', "run.steps[0].call", 'got "a.b:"'),
    "call number": (A_STEP + "call = 5\n", "run.steps[0].call", "got 5"),
    "cwd number": (HEAD + STEP + "cwd = 5\n", "provision.steps[0].cwd", "got 5"),
    "cwd empty": (HEAD + STEP + 'cwd = ""\n', "provision.steps[0].cwd", "non-empty string"),
    "timeout words": (
        HEAD + STEP + 'timeout = "ten"\n',
        "provision.steps[0].timeout",
        'expected a positive number of seconds, got "ten"',
    ),
    "timeout zero": (HEAD + STEP + "timeout = 0\n", "provision.steps[0].timeout", "got 0"),
    "timeout negative": (
        HEAD + STEP + "timeout = -1.5\n",
        "provision.steps[0].timeout",
        "got -1.5",
    ),
    "timeout bool": (HEAD + STEP + "timeout = true\n", "provision.steps[0].timeout", "got true"),
    "timeout inf": (HEAD + STEP + "timeout = inf\n", "provision.steps[0].timeout", "got inf"),
    "timeout nan": (HEAD + STEP + "timeout = nan\n", "provision.steps[0].timeout", "got nan"),
    "timeout on a call": (
        A_STEP + 'call = "a.b:c"\ntimeout = 5\n',
        "run.steps[0].timeout",
        "command steps",
    ),
    "cwd on a call": (
        A_STEP + 'call = "a.b:c"\ncwd = "app"\n',
        "run.steps[0].cwd",
        "command steps",
    ),
    "env on a call": (
        A_STEP + 'call = "a.b:c"\nenv = { A = "1" }\n',
        "run.steps[0].env",
        "command steps",
    ),
    "env not a table": (
        HEAD + STEP + 'env = "A=1"\n',
        "provision.steps[0].env",
        "expected a table",
    ),
    "env number": (
        HEAD + STEP + "env = { PORT = 8080 }\n",
        "provision.steps[0].env.PORT",
        "expected a string (quote it), got 8080",
    ),
    "env bad name": (
        HEAD + STEP + 'env = { "A-B" = "1" }\n',
        "provision.steps[0].env.A-B",
        "variable name",
    ),
    "placeholder typo in argv": (
        A_STEP + 'run = ["echo", "{nmae}"]\n',
        "run.steps[0].run[1]",
        "unknown placeholder {nmae}",
    ),
    "placeholder typo in string": (
        A_STEP + 'run = "echo {build}"\n',
        "run.steps[0].run",
        "unknown placeholder {build}",
    ),
    "placeholder typo in cwd": (
        HEAD + STEP + 'cwd = "{build_folder}/x"\n',
        "provision.steps[0].cwd",
        "{build_folder}",
    ),
    "placeholder typo in env": (
        HEAD + STEP + 'env = { A = "{home}" }\n',
        "provision.steps[0].env.A",
        "{home}",
    ),
    "ssh placeholder without ssh": (
        HEAD + STEP + 'env = { U = "{ssh_username}" }\n',
        "provision.steps[0].env.U",
        "needs an [ssh] section",
    ),
    "ssh port placeholder without ssh": (
        A_STEP + 'run = "ssh -p {ssh_port} x"\n',
        "run.steps[0].run",
        "{ssh_port} needs an [ssh] section",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_one_bad_key_gives_one_problem_at_its_path(folder: Path, case: str) -> None:
    """Tried: a config with one mistake (the id says which)."""
    text, key, fragment = BAD[case]
    problem = only_problem(folder, text, key)
    assert fragment in problem


@pytest.mark.parametrize(
    "name", ["web/prod", "web.prod", "Web", "1web", "web--prod", "a" * 64, "", "web-", "wéb", "a b"]
)
def test_a_bad_environment_name_gives_the_rule(folder: Path, name: str) -> None:
    """Tried: each kind of bad environment name, in the config."""
    problem = only_problem(folder, f'[environment]\nname = "{name}"\n', "environment.name")
    assert f"invalid environment name {name!r}" in problem
    assert InvalidName.RULE in problem


def test_a_missing_key_file_names_the_resolved_path(folder: Path) -> None:
    """Tried: a relative private_key that does not exist."""
    text = HEAD + '[ssh]\nprivate_key = "../keys/gone"\npublic_key = "keys/id_ed25519.pub"\n'
    problem = only_problem(folder, text, "ssh.private_key")
    assert problem == f"ssh.private_key: key file not found: {folder.parent / 'keys' / 'gone'}"


def test_a_duplicate_step_name_names_both_steps(folder: Path) -> None:
    """Tried: two provision steps named apply (and an apply in another phase, which is fine)."""
    text = HEAD + STEP + STEP + '[[run.steps]]\nname = "apply"\nrun = "x"\n'
    problem = only_problem(folder, text, "provision.steps[1].name")
    assert '"apply"' in problem and "provision.steps[0]" in problem


def test_ssh_placeholders_are_fine_with_ssh(folder: Path) -> None:
    """Tried: every placeholder, with an [ssh] section."""
    words = "{name} {workdir} {build_dir} {data_dir} {ssh_username} {ssh_private_key} "
    words += "{ssh_public_key} {ssh_port}"
    text = HEAD + SSH + f'[[run.steps]]\nname = "a"\nrun = "echo {words}"\n'
    assert load_config(write(folder, text)).phases.run[0].run == f"echo {words}"


def test_every_problem_is_reported_at_once(folder: Path) -> None:
    """Tried: one config with seven mistakes in four sections."""
    text = """
[environment]
name = "Web"

[ssh]
port = 70000
private_key = "keys/missing"
public_key = "keys/id_ed25519.pub"

[[provision.steps]]
name = "apply"
run = ["tofu", "apply"]
timeout = "ten"

[[provision.steps]]
name = "apply"
call = "x"

[[destroy.steps]]
name = "gone"
run = "rm -rf {buld_dir}"
retries = 300
"""
    problems = refused(write(folder, text)).problems
    keys = [problem.split(": ", 1)[0] for problem in problems]
    assert sorted(keys) == sorted(
        [
            "environment.name",
            "ssh.port",
            "ssh.private_key",
            "provision.steps[0].timeout",
            "provision.steps[1].call",
            "provision.steps[1].name",
            "destroy.steps[0].retries",
            "destroy.steps[0].run",
        ]
    )
    assert (
        'provision.steps[0].timeout: expected a positive number of seconds, got "ten"' in problems
    )


def test_check_steps_retries_and_scoped_placeholders_named_like_ssh_ones(folder: Path) -> None:
    """Tried: [[check.steps]], retries and retry_delay, and {outputs.ssh_port} /
    {var.ssh_username} without an [ssh] section (they are not the ssh placeholders)."""
    text = """
[environment]
name = "web"

[[configure.steps]]
name = "show"
run = ["echo", "{outputs.ssh_port}", "{var.ssh_username}"]
retries = 3
retry_delay = 0.5

[[check.steps]]
name = "answers"
run = ["true"]
"""
    environment = load_config(write(folder, text))
    step = environment.phases.configure[0]
    assert (step.retries, step.retry_delay) == (3, 0.5)
    assert [check.name for check in environment.phases.check] == ["answers"]
    assert environment.phases.run == ()
