#!/usr/bin/env python3
"""The demo's service: a tiny HTTP application, standard library only.

    python3 app.py --config instance/service.json --port-file instance/app.port

It listens on 127.0.0.1 only, on a free port the system picks (port 0), and writes
that port to --port-file once it is listening (write to a temporary file, then rename,
so a reader never sees half a number). Routes:

    GET /health  -> 200 {"status": "ok", "environment": ..., "pid": ...}
    GET /        -> 200 an HTML page with the greeting from the config
    anything else -> 404

SIGTERM and SIGINT stop it cleanly: the server finishes the request in hand, closes
its socket, removes the port file and exits 0. Request logs go to stderr.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

HOST = "127.0.0.1"


class DemoServer(ThreadingHTTPServer):
    """The HTTP server, holding the service configuration its handlers answer with."""

    daemon_threads = True

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__((HOST, 0), DemoHandler)
        self.config = config


class DemoHandler(BaseHTTPRequestHandler):
    server: DemoServer
    server_version = "statemgr-demo/1"

    def do_GET(self) -> None:
        config = self.server.config
        environment = str(config.get("environment", ""))
        if self.path == "/health":
            body = {"status": "ok", "environment": environment, "pid": os.getpid()}
            self._send(200, "application/json", json.dumps(body).encode())
        elif self.path in ("/", "/index.html"):
            greeting = html.escape(str(config.get("greeting", "Hello!")))
            page = (
                "<!doctype html>\n<html><head><meta charset='utf-8'>"
                f"<title>statemgr demo: {html.escape(environment)}</title></head>\n"
                f"<body><h1>{greeting}</h1>\n"
                f"<p>Environment <code>{html.escape(environment)}</code>, "
                f"served by pid {os.getpid()}.</p></body></html>\n"
            )
            self._send(200, "text/html; charset=utf-8", page.encode())
        else:
            self._send(404, "application/json", b'{"error": "not found"}')

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def write_port_file(path: Path, port: int) -> None:
    """Write the port atomically: a reader sees no file or the whole number."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(f"{port}\n")
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The statemgr demo's HTTP service.")
    parser.add_argument("--config", type=Path, required=True, help="service.json")
    parser.add_argument("--port-file", type=Path, required=True, help="where to write the port")
    args = parser.parse_args(argv)

    config = json.loads(args.config.read_text())
    server = DemoServer(config)

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run on the
        # thread that serves (the main one, where signal handlers run).
        print(f"app: got signal {signum}, stopping", file=sys.stderr, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    port = server.server_address[1]
    write_port_file(args.port_file, port)
    print(f"app: pid {os.getpid()} listening on http://{HOST}:{port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        args.port_file.unlink(missing_ok=True)
        print("app: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
