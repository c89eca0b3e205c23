"""deploy_steps.py: the Python steps of staging.toml (``call = "deploy_steps:..."``).

statemgr imports this module from the config file's folder (``validate`` does too, to
check that every ``call`` names a function) and calls a function with the step's context;
a function fails its step by raising.
"""

import socket
import time
import urllib.request


def _host(context):
    return (context.build_dir / "host").read_text().strip()


def wait_for_ssh(context, attempts=60):
    """Until the new server's SSH port answers (the address is in build/NAME/host)."""
    port = int(context.variables["ssh_port"])
    for _ in range(attempts):
        try:
            with socket.create_connection((_host(context), port), timeout=5):
                return
        except OSError:
            time.sleep(5)
    raise TimeoutError(f"SSH on {_host(context)}:{port} did not answer")


def wait_until_healthy(context, attempts=30):
    """Until the application answers on /health."""
    url = f"http://{_host(context)}/health"
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    print(f"{url} answers")
                    return
        except OSError:
            pass
        time.sleep(2)
    raise RuntimeError(f"{url} did not answer")
