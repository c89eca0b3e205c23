"""The built-in demo environment's files, run for real the way statemgr's runners run steps.

The runners are not used here on purpose: these tests pin the demo's files themselves. A
small harness does what the contract says a runner does: command steps run with their
placeholders filled in, cwd {build_dir} (or cwd relative to it), the STATEMGR_* variables
and the step's env; Python steps get a real StepContext, with the config file's folder on
the import path, either in this process or in a child process with piped stdout/stderr
(the two ways a runner may call them). Outputs are handed on as the contract says: a
command step's $STATEMGR_OUTPUT lines, a Python step's returned dict, {outputs.KEY}.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from statemgr.demo import DEMO_ENVIRONMENT, install_demo
from statemgr.model import Environment, Phase, Phases, Step
from statemgr.model.outputs import parse_outputs
from statemgr.runners.base import StepContext

# In the order they run (the checks after the run steps).
PHASES = ("provision", "configure", "release", "run", "check", "destroy")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
STEP_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
CALL_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
PLACEHOLDER = re.compile(r"\{([\w.]+)\}")
PLACEHOLDERS = {
    "name",
    "workdir",
    "build_dir",
    "data_dir",
    "ssh_username",
    "ssh_private_key",
    "ssh_public_key",
    "ssh_port",
}
STEP_KEYS = {"name", "run", "call", "cwd", "timeout", "env", "retries", "retry_delay"}
STEPS_MODULE = "demo_steps"
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no http_proxy

CHILD_STEP = """
import json, sys
from pathlib import Path
from statemgr.model import Environment, Phase, Step
from statemgr.runners.base import StepContext
a = json.loads(sys.argv[1])
sys.path.insert(0, a["config_dir"])
module, _, function = a["call"].partition(":")
ctx = StepContext(
    environment=Environment.new(a["name"]), phase=Phase(a["phase"]),
    step=Step(name=a["step"], call=a["call"]), workdir=Path(a["workdir"]),
    build_dir=Path(a["build_dir"]), data_dir=Path(a["data_dir"]),
    trace_file=Path(a["data_dir"]) / "traces" / "test.log", variables=a["variables"])
returned = getattr(__import__(module), function)(ctx)
print(json.dumps(returned))
print("step finished")
"""


class StepFailed(AssertionError):
    pass


class DemoWorkspace:
    """The demo installed in a workspace, and a stand-in runner for its steps."""

    def __init__(self, workdir: Path, *, python_steps: str = "in_process") -> None:
        self.workdir = workdir
        self.config_file = install_demo(workdir)
        self.config_dir = self.config_file.parent
        self.config = tomllib.loads(self.config_file.read_text())
        self.environment = Environment.new(
            self.config["environment"]["name"],
            phases=Phases(**{phase: self._steps(phase) for phase in PHASES}),
            config_file=str(self.config_file),
        )
        self.build_dir = workdir / self.environment.build_dir
        self.data_dir = workdir / self.environment.data_dir
        self.build_dir.mkdir(parents=True)  # statemgr makes both before a step runs
        self.data_dir.mkdir(parents=True)
        self.instance = self.build_dir / "instance"
        self.python_steps = python_steps
        self.outputs: dict[str, str] = {}  # what each step printed
        self.handed: dict[str, str] = {}  # the outputs the steps handed on
        self.app_pids: set[int] = set()

    def _steps(self, phase: str) -> tuple[Step, ...]:
        steps = []
        for raw in self.config.get(phase, {}).get("steps", []):
            run = raw.get("run")
            steps.append(
                Step(
                    name=raw["name"],
                    run=tuple(run) if isinstance(run, list) else run,
                    call=raw.get("call"),
                    cwd=raw.get("cwd"),
                    timeout=float(raw.get("timeout", 3600)),
                    env=dict(raw.get("env", {})),
                )
            )
        return tuple(steps)

    @property
    def variables(self) -> dict[str, str]:
        return {
            "name": str(self.environment.name),
            "workdir": str(self.workdir),
            "build_dir": str(self.build_dir),
            "data_dir": str(self.data_dir),
            **{f"outputs.{key}": value for key, value in self.handed.items()},
        }

    def fill(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            assert match.group(1) in self.variables, f"unknown placeholder in {text!r}"
            return self.variables[match.group(1)]

        return PLACEHOLDER.sub(value, text)

    def run_phase(self, phase: str) -> None:
        for step in self.environment.phases.steps(Phase(phase)):
            if step.call is not None:
                self._call(phase, step)
            else:
                self._command(phase, step)
            pid = _read_int(self.instance / "app.pid")
            if pid is not None:
                self.app_pids.add(pid)

    def _command(self, phase: str, step: Step) -> None:
        assert step.run is not None
        if isinstance(step.run, str):
            argv = ["sh", "-c", self.fill(step.run)]
        else:
            argv = [self.fill(part) for part in step.run]
        env = dict(os.environ)
        env.update({key: self.fill(value) for key, value in step.env.items()})
        output_file = self.data_dir / f"{phase}-{step.name}.output"
        output_file.write_bytes(b"")
        env.update(
            STATEMGR_ENV=str(self.environment.name),
            STATEMGR_PHASE=phase,
            STATEMGR_STEP=step.name,
            STATEMGR_BUILD_DIR=str(self.build_dir),
            STATEMGR_DATA_DIR=str(self.data_dir),
            STATEMGR_OUTPUT=str(output_file),
        )
        cwd = self.build_dir / self.fill(step.cwd) if step.cwd else self.build_dir
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=min(step.timeout, 30),
        )
        self.outputs[f"{phase}/{step.name}"] = result.stdout + result.stderr
        if result.returncode != 0:
            raise StepFailed(
                f"{phase}/{step.name}: {argv} exited {result.returncode}: {result.stderr}"
            )
        self.handed.update(parse_outputs(output_file.read_bytes()))

    def context(self, phase: str, step: Step) -> StepContext:
        return StepContext(
            environment=self.environment,
            phase=Phase(phase),
            step=step,
            workdir=self.workdir,
            build_dir=self.build_dir,
            data_dir=self.data_dir,
            trace_file=self.data_dir / "traces" / "test.log",
            variables=self.variables,
        )

    def steps_module(self) -> ModuleType:
        if str(self.config_dir) not in sys.path:
            sys.path.insert(0, str(self.config_dir))
        module = __import__(STEPS_MODULE)
        assert Path(module.__file__ or "").parent == self.config_dir
        return module

    def _call(self, phase: str, step: Step) -> None:
        assert step.call is not None
        module_name, _, function = step.call.partition(":")
        assert module_name == STEPS_MODULE
        if self.python_steps == "in_process":
            returned = getattr(self.steps_module(), function)(self.context(phase, step))
            self.handed.update(returned or {})
            return
        # In a child whose stdout and stderr are pipes: if the app kept a copy of either,
        # reading them to the end would wait for the app, and time out.
        arguments = {
            "config_dir": str(self.config_dir),
            "call": step.call,
            "phase": phase,
            "step": step.name,
            "variables": self.variables,
            **self.variables,
        }
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD_STEP, json.dumps(arguments)],
            stdin=subprocess.PIPE,  # pipes all three: the app must hold none of them
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = child.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise StepFailed(f"{phase}/{step.name}: its stdout/stderr stayed open") from None
        if child.returncode != 0:
            raise StepFailed(f"{phase}/{step.name} raised: {err}")
        assert out.endswith("step finished\n")
        self.handed.update(json.loads(out.splitlines()[-2]) or {})


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoWorkspace]:
    """A demo workspace; whatever app a test started is killed at the end, whatever happens."""
    workspace = DemoWorkspace(tmp_path)
    try:
        yield workspace
    finally:
        pids = set(workspace.app_pids)
        pid = _read_int(workspace.instance / "app.pid")
        if pid is not None:
            pids.add(pid)
        for pid in pids:
            if str(tmp_path) in _command_line(pid):
                _kill(pid)
        sys.modules.pop(STEPS_MODULE, None)
        while str(workspace.config_dir) in sys.path:
            sys.path.remove(str(workspace.config_dir))


# The config ----------------------------------------------------------------------------


def test_config_follows_the_contract(demo: DemoWorkspace) -> None:
    config = demo.config
    assert set(config) <= {"environment", "ssh", *PHASES}
    assert config["environment"] == {"name": DEMO_ENVIRONMENT}
    assert NAME_PATTERN.fullmatch(DEMO_ENVIRONMENT)
    assert "ssh" not in config, "key files must exist at create; provision makes them"
    kinds = set()
    for phase in PHASES:
        assert set(config[phase]) == {"steps"}, phase
        steps = config[phase]["steps"]
        assert steps, f"the demo shows every phase; {phase} has no steps"
        names = [step["name"] for step in steps]
        assert len(names) == len(set(names)), f"step names repeat in {phase}: {names}"
        for step in steps:
            where = f"{phase}/{step['name']}"
            assert set(step) <= STEP_KEYS, where
            assert STEP_NAME_PATTERN.fullmatch(step["name"]), where
            assert ("run" in step) != ("call" in step), f"{where}: exactly one of run, call"
            if "call" in step:
                kinds.add("call")
                assert CALL_PATTERN.fullmatch(step["call"]), where
                assert not {"cwd", "timeout", "env"} & set(step), where
                module, _, function = step["call"].partition(":")
                assert module == STEPS_MODULE, where
                assert callable(getattr(demo.steps_module(), function)), where
            else:
                run = step["run"]
                kinds.add("argv" if isinstance(run, list) else "string")
                assert isinstance(run, str) or (
                    run and all(isinstance(part, str) for part in run)
                ), where
                texts = [run] if isinstance(run, str) else list(run)
                texts += [step.get("cwd", ""), *step.get("env", {}).values()]
                for text in texts:
                    for placeholder in PLACEHOLDER.findall(text):
                        assert placeholder in PLACEHOLDERS or placeholder.startswith("outputs."), (
                            where
                        )
                    script = re.fullmatch(r"\{workdir\}/demo/(.+)", text)
                    if script:
                        shipped = demo.config_dir / script.group(1)
                        assert shipped.is_file(), f"{where}: {shipped} is not shipped"
                assert isinstance(step.get("timeout", 1), int | float), where
                assert all(isinstance(v, str) for v in step.get("env", {}).values()), where
    assert kinds == {"call", "argv", "string"}, "the demo shows every kind of step"


# install_demo ------------------------------------------------------------------------------


def test_install_demo_copies_the_files_and_overwrites_them(tmp_path: Path) -> None:
    shipped = {
        entry.name: entry.read_bytes()
        for entry in files("statemgr.demo").joinpath("files").iterdir()
        if entry.is_file() and not entry.name.endswith(".pyc")
    }
    assert {"demo.toml", "demo_steps.py", "app.py"} <= set(shipped)
    config = install_demo(tmp_path)
    assert config == tmp_path / "demo" / "demo.toml"
    folder = config.parent
    assert {path.name for path in folder.iterdir()} == set(shipped)
    for name, content in shipped.items():
        assert (folder / name).read_bytes() == content, name
    for script in [*folder.glob("*.sh"), folder / "app.py"]:
        assert os.access(script, os.X_OK), script
    assert not os.access(config, os.X_OK)

    config.write_text("damaged")
    (folder / "mine.txt").write_text("a user's file")
    assert install_demo(tmp_path) == config
    assert config.read_bytes() == shipped["demo.toml"]
    assert (folder / "mine.txt").read_text() == "a user's file"


# The whole lifecycle ---------------------------------------------------------------------


@pytest.mark.parametrize("python_steps", ["in_process", "child_process"])
def test_deploy_then_destroy(demo: DemoWorkspace, python_steps: str) -> None:
    demo.python_steps = python_steps
    instance = demo.instance

    demo.run_phase("provision")
    public_key = (instance / "id_ed25519.pub").read_text()
    assert public_key.startswith("ssh-ed25519 ")
    assert public_key.split()[2] == "statemgr-demo"
    assert stat.S_IMODE((instance / "id_ed25519").stat().st_mode) == 0o600

    demo.run_phase("configure")
    assert "(ED25519)" in demo.outputs["configure/show_ssh_key"]
    service = json.loads((instance / "service.json").read_text())
    assert service["environment"] == "demo"
    assert "demo" in service["greeting"]

    demo.run_phase("release")
    app = instance / "app" / "app.py"
    assert app.read_bytes() == (demo.config_dir / "app.py").read_bytes()
    assert os.access(app, os.X_OK)
    assert (instance / "app" / "RELEASE").read_text().startswith("demo release/install_app ")

    demo.run_phase("run")
    pid = _read_int(instance / "app.pid")
    port = _read_int(instance / "app.port")
    assert pid is not None and port is not None
    assert _get(port, "/health") == (200, {"status": "ok", "environment": "demo", "pid": pid})
    assert demo.handed == {
        "ssh_public_key": str(instance / "id_ed25519.pub"),
        "app_port": str(port),
        "app_url": f"http://127.0.0.1:{port}/",
    }
    demo.run_phase("check")  # the health check reads the port back from the outputs
    status, page = _get(port, "/")
    assert status == 200 and service["greeting"] in page
    assert _get(port, "/nope")[0] == 404
    _assert_detached(pid, instance / "app.log")
    _assert_listens_on_loopback_only(port)

    demo.run_phase("destroy")
    assert _wait_gone(pid), f"the app (pid {pid}) still runs after destroy"
    assert not instance.exists()
    assert demo.build_dir.is_dir(), "build/NAME stays until purge"
    with pytest.raises(OSError):
        DIRECT.open(f"http://127.0.0.1:{port}/health", timeout=2)

    demo.run_phase("destroy")  # again: nothing left to do, still fine


def test_the_app_stops_cleanly_on_sigterm(demo: DemoWorkspace) -> None:
    for phase in ("provision", "configure", "release", "run"):
        demo.run_phase(phase)
    pid = _read_int(demo.instance / "app.pid")
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    assert _wait_gone(pid)
    assert not (demo.instance / "app.port").exists(), "the app removes its port file"
    assert "app: stopped" in (demo.instance / "app.log").read_text()
    demo.run_phase("destroy")  # tolerates the app being stopped already
    assert not demo.instance.exists()


def test_the_demo_through_statemgrs_own_config_loader_and_runners(demo: DemoWorkspace) -> None:
    """The same lifecycle with load_config and run_step, as ``statemgr demo`` runs it."""
    from statemgr.config import load_config
    from statemgr.layout import Layout
    from statemgr.runners import run_step, step_variables

    environment = load_config(demo.config_file)
    assert environment.name == DEMO_ENVIRONMENT and environment.ssh is None
    layout = Layout(demo.workdir)
    name = str(environment.name)
    outputs: dict[str, str] = {}
    for phase in map(Phase, PHASES):
        steps = environment.phases.steps(phase)
        trace_file = layout.traces_dir(name) / f"{phase.value}.log"
        trace_file.parent.mkdir(parents=True, exist_ok=True)
        for index, step in enumerate(steps, start=1):
            context = StepContext(
                environment=environment,
                phase=phase,
                step=step,
                workdir=layout.root,
                build_dir=layout.build_dir(name),
                data_dir=layout.data_dir(name),
                trace_file=trace_file,
                variables=step_variables(environment, layout, None, outputs),
                index=index,
                total=len(steps),
            )
            result = run_step(context)
            outputs.update(result.outputs)
            pid = _read_int(demo.instance / "app.pid")
            if pid is not None:
                demo.app_pids.add(pid)
            assert result.ok, f"{phase}/{step.name}: {result.message}\n{trace_file.read_text()}"
        if phase is Phase.run:
            port = _read_int(demo.instance / "app.port")
            assert port is not None and _get(port, "/health")[0] == 200
    assert len(demo.app_pids) == 1
    assert all(_wait_gone(pid) for pid in demo.app_pids)
    assert not demo.instance.exists()
    destroy_trace = (layout.traces_dir(name) / "destroy.log").read_text()
    assert "stopped the app (pid" in destroy_trace
    assert "removed " in destroy_trace


# Failures -------------------------------------------------------------------------------


def test_run_fails_clearly_when_the_app_exits(demo: DemoWorkspace) -> None:
    for phase in ("provision", "configure", "release"):
        demo.run_phase(phase)
    (demo.instance / "app" / "app.py").write_text(
        "import sys\nprint('boom: no such thing', file=sys.stderr)\nsys.exit(3)\n"
    )
    with pytest.raises(RuntimeError, match=r"exited with code 3.*app\.log.*boom: no such thing"):
        demo.run_phase("run")
    assert not (demo.instance / "app.pid").exists()
    demo.run_phase("destroy")
    assert not demo.instance.exists()


def test_run_stops_an_app_that_never_answers(
    demo: DemoWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for phase in ("provision", "configure", "release"):
        demo.run_phase(phase)
    (demo.instance / "app" / "app.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setattr(demo.steps_module(), "START_TIMEOUT", 1.0)
    with pytest.raises(RuntimeError, match=r"did not answer GET /health within 1 s") as failure:
        demo.run_phase("run")
    pid = int(re.search(r"pid (\d+)", str(failure.value)).group(1))  # type: ignore[union-attr]
    demo.app_pids.add(pid)
    assert _wait_gone(pid), "a failed start leaves no process behind"


# Destroy on a partly deployed environment -----------------------------------------------


@pytest.mark.parametrize(
    "leftover",
    ["nothing", "empty_instance", "half_a_key", "dead_pid_file", "garbage_pid_file"],
)
def test_destroy_after_a_partial_deploy(demo: DemoWorkspace, leftover: str) -> None:
    if leftover != "nothing":
        demo.instance.mkdir()
    if leftover == "half_a_key":
        (demo.instance / "id_ed25519").write_text("partial")
    if leftover == "dead_pid_file":
        dead = subprocess.Popen(["true"])
        dead.wait()
        (demo.instance / "app.pid").write_text(f"{dead.pid}\n")
    if leftover == "garbage_pid_file":
        (demo.instance / "app.pid").write_text("not a pid\n")
    demo.run_phase("destroy")
    assert not demo.instance.exists()
    assert demo.build_dir.is_dir()


def test_destroy_leaves_another_program_alone(demo: DemoWorkspace) -> None:
    """A pid file whose pid now belongs to some other program (after a reboot, say)."""
    demo.instance.mkdir()
    other = subprocess.Popen(["sleep", "30"])
    try:
        (demo.instance / "app.pid").write_text(f"{other.pid}\n")
        demo.run_phase("destroy")
        assert other.poll() is None, "destroy killed a process that is not the demo's app"
        assert not demo.instance.exists()
    finally:
        other.kill()
        other.wait()


def test_scripts_refuse_to_run_outside_statemgr(demo: DemoWorkspace) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATEMGR_")}
    result = subprocess.run(
        ["sh", str(demo.config_dir / "make-ssh-key.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "STATEMGR_BUILD_DIR" in result.stderr and "statemgr step" in result.stderr


# Helpers ----------------------------------------------------------------------------------


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _get(port: int, path: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with DIRECT.open(url, timeout=5) as response:
            status, body, kind = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read(), error.headers
    if kind.get_content_type() == "application/json" and status == 200:
        return status, json.loads(body)
    return status, body.decode()


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        result = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-p", str(pid)], capture_output=True, text=True
        )
        return result.stdout.strip()


def _kill(pid: int) -> None:
    """SIGKILL the app's process group (it leads one), or the app alone if it leads none."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
    _wait_gone(pid)


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie its parent (not this test) has yet to reap."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _assert_detached(pid: int, log_file: Path) -> None:
    """The app leads a session of its own, reads /dev/null, writes only to its log file."""
    assert os.getsid(pid) == pid
    assert os.getpgid(pid) == pid
    fd_dir = Path(f"/proc/{pid}/fd")
    if not fd_dir.is_dir():
        return
    assert os.readlink(fd_dir / "0") == os.devnull
    assert os.readlink(fd_dir / "1") == str(log_file)
    assert os.readlink(fd_dir / "2") == str(log_file)
    for fd in fd_dir.iterdir():
        target = os.readlink(fd)
        assert not target.startswith("pipe:"), f"the app holds a pipe: fd {fd.name}"
        assert "/dev/pts" not in target and "/dev/tty" not in target, f"fd {fd.name}: {target}"


def _assert_listens_on_loopback_only(port: int) -> None:
    """From /proc/net/tcp{,6} (Linux): every listening socket on ``port`` is 127.0.0.1's."""
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            return
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                addresses.append(address)
    assert addresses == ["0100007F"], addresses
