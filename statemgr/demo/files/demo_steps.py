"""The demo's Python steps (``call = "demo_steps:FUNCTION"`` in demo.toml).

statemgr puts the config file's folder on the import path, so this module is found next
to demo.toml. Each function gets the step context (statemgr.runners.base.StepContext:
.environment, .phase, .step, .workdir, .build_dir, .data_dir, .variables) and fails by
raising; the exception's message is what statemgr records as the failure. What a
function prints goes to the trace file of the command run (data/NAME/traces/).

Everything lives in {build_dir}/instance, the folder provision makes:

    service.json   written by write_service_config (configure)
    app/app.py     installed by install-app.sh (release)
    app.pid        written by start_app (run): the app's process id
    app.port       written by the app once it listens on 127.0.0.1
    app.log        the app's stdout and stderr

Outputs: start_app returns the app's port and URL (``app_port``, ``app_url``), which
check_app (a health check, ``[[check.steps]]``) reads back as ``outputs.app_port``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statemgr.runners.base import StepContext

START_TIMEOUT = 10.0  # seconds the app gets to answer GET /health
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
POLL_INTERVAL = 0.05

# The apps this process started, by pid. A statemgr process that both starts and stops
# the app (`statemgr demo`) reaps its own child through these, so it leaves no zombie.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}

# Straight to 127.0.0.1, whatever http_proxy says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DemoStepError(RuntimeError):
    """A demo step could not do its work; the message says what and what to do."""


def instance_dir(ctx: StepContext) -> Path:
    """The folder that stands in for the demo's machine: {build_dir}/instance."""
    return Path(ctx.build_dir) / "instance"


# configure ---------------------------------------------------------------------------


def write_service_config(ctx: StepContext) -> None:
    """configure/write_service_config: the service's configuration, instance/service.json."""
    instance = instance_dir(ctx)
    if not instance.is_dir():
        raise DemoStepError(f"{instance} does not exist: provision makes it")
    name = str(ctx.environment.name)
    config = {
        "environment": name,
        "greeting": f"Hello from {name}, a statemgr demo environment!",
        "listen": "127.0.0.1",
        "ssh_public_key": str(instance / "id_ed25519.pub"),
        "configured_by": f"{ctx.phase}/{ctx.step.name}",
    }
    target = instance / "service.json"
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(config, indent=2) + "\n")
    os.replace(temporary, target)
    print(f"{name}: wrote {target}")


# run ---------------------------------------------------------------------------------


def start_app(ctx: StepContext) -> dict[str, str]:
    """run/start_app: start the app in the background and wait until GET /health answers.

    Returns the outputs ``app_port`` and ``app_url``: statemgr saves them, later steps get
    them as ``{outputs.app_port}``, and ``statemgr status demo`` shows them.

    The app runs with this step's Python (``sys.executable``: right in a venv too), in a
    session of its own (so it outlives statemgr and its terminal), with stdin from
    /dev/null and stdout/stderr to instance/app.log, so that it holds none of the step's
    file descriptors. It binds port 0 (the system picks a free port) and writes the port
    to instance/app.port. If it does not answer within START_TIMEOUT it is stopped again
    and the step fails.
    """
    instance = instance_dir(ctx)
    app = instance / "app" / "app.py"
    config = instance / "service.json"
    for needed, phase in ((config, "configure"), (app, "release")):
        if not needed.is_file():
            raise DemoStepError(f"{needed} does not exist: {phase} makes it")
    if (instance / "app.pid").exists():
        stop_app(ctx)  # a leftover from an earlier, interrupted run
    port_file = instance / "app.port"
    log_file = instance / "app.log"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(app), "--config", str(config), "--port-file", str(port_file)],
            cwd=instance,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _STARTED[process.pid] = process
    (instance / "app.pid").write_text(f"{process.pid}\n")
    try:
        port = _wait_until_healthy(process, port_file, str(ctx.environment.name))
    except DemoStepError as error:
        _stop(process.pid, app)
        (instance / "app.pid").unlink(missing_ok=True)
        output = f"the app's output is in {log_file}{_tail(log_file)}"
        raise DemoStepError(f"{error}; {output}") from None
    print(f"{ctx.environment.name}: app pid {process.pid} answers {health_url(port)}")
    return {"app_port": str(port), "app_url": f"http://127.0.0.1:{port}/"}


# check -------------------------------------------------------------------------------


def check_app(ctx: StepContext) -> None:
    """check/app_answers: the app answers GET /health for this environment, on the port
    that start_app handed on (the output ``app_port``)."""
    port = ctx.variables.get("outputs.app_port")
    if not port:
        raise DemoStepError("no output 'app_port': run/start_app hands it on")
    problem = _check_health(int(port), str(ctx.environment.name))
    if problem is not None:
        raise DemoStepError(f"the app does not answer: {problem}")
    print(f"{ctx.environment.name}: {health_url(int(port))} answers ok")


def health_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/health"


def _wait_until_healthy(process: subprocess.Popen[bytes], port_file: Path, name: str) -> int:
    """The app's port, once GET /health answers ok for ``name``."""
    deadline = time.monotonic() + START_TIMEOUT
    last_problem = "it wrote no port file"
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise DemoStepError(f"the app (pid {process.pid}) exited with code {code}")
        port = _read_int(port_file)
        if port is not None:
            problem = _check_health(port, name)
            if problem is None:
                return port
            last_problem = problem
        time.sleep(POLL_INTERVAL)
    raise DemoStepError(
        f"the app (pid {process.pid}) did not answer GET /health within "
        f"{START_TIMEOUT:g} s ({last_problem})"
    )


def _check_health(port: int, name: str) -> str | None:
    """None if the app answers GET /health as expected, else what is wrong."""
    url = health_url(port)
    try:
        with _DIRECT.open(url, timeout=1) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as error:  # URLError and HTTPError are OSErrors
        return f"{url}: {error}"
    if body.get("status") != "ok" or body.get("environment") != name:
        return f"{url} answered {body!r}"
    return None


def _tail(log_file: Path, lines: int = 3) -> str:
    try:
        text = log_file.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ": " + " | ".join(text) if text else ""


# destroy -----------------------------------------------------------------------------


def stop_app(ctx: StepContext) -> None:
    """destroy/stop_app: stop the app if it runs; nothing to do if it never started.

    SIGTERM, then up to STOP_TIMEOUT for it to exit, then SIGKILL. A pid file whose
    process is gone, or now belongs to some other program, is just removed.
    """
    instance = instance_dir(ctx)
    pid_file = instance / "app.pid"
    pid = _read_int(pid_file)
    if pid is not None and pid > 0:
        print(f"{ctx.environment.name}: {_stop(pid, instance / 'app' / 'app.py')}")
    else:
        print(f"{ctx.environment.name}: no app to stop (no pid in {pid_file})")
    pid_file.unlink(missing_ok=True)
    (instance / "app.port").unlink(missing_ok=True)


def _stop(pid: int, app: Path) -> str:
    """Stop the app ``pid`` if it still runs ``app``; say what was done."""
    if not _is_running(pid):
        _STARTED.pop(pid, None)
        return f"the app (pid {pid}) had already stopped"
    if not _is_demo_app(pid, app):
        return f"pid {pid} is no longer the app but another program: left alone"
    sent = "SIGTERM"
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        try:
            os.kill(pid, sig)
            sent = sig.name
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while _is_running(pid) and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)
        if not _is_running(pid):
            break
    else:
        raise DemoStepError(f"the app (pid {pid}) survived SIGTERM and SIGKILL")
    _STARTED.pop(pid, None)
    return f"stopped the app (pid {pid}) with {sent}"


def _is_running(pid: int) -> bool:
    child = _STARTED.get(pid)
    if child is not None:
        return child.poll() is None  # also reaps it
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # it was this process's child, had exited, and is now reaped
    except ChildProcessError:
        pass  # not a child of this process: the usual case
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, and belongs to someone else
    return _process_status(pid) != "Z"  # a zombie has exited, its parent has not reaped it


def _process_status(pid: int) -> str:
    """The process state letter (R, S, Z, ...), or "" if it cannot be told."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        pass
    output = _ps(pid, "stat=")
    return output[:1] if output else ""


def _is_demo_app(pid: int, app: Path) -> bool:
    """Whether ``pid`` runs ``app``; True when this cannot be told (no /proc, no ps)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        shown = _ps(pid, "args=")
        return not shown or str(app) in shown
    return os.fsencode(app) in command


def _ps(pid: int, field: str) -> str:
    try:
        result = subprocess.run(
            ["ps", "-ww", "-o", field, "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
