"""HAProxy as `python -m bot serve --production` configures it, in front of two small HTTP
servers standing in for Rasa replicas: after `kill -9` of one, no visitor request gets an error.

A process with a lot of memory takes a while to die; meanwhile the kernel still accepts
connections on its port and then resets them, unanswered. HAProxy must resend those requests
to the other replica (the CI failure this reproduces: `502 Bad Gateway` on the first message
after `kill -9` of a Rasa replica). The full layout is tested with Rasa in
tests/e2e/test_production_config.py; this is the mechanism, in seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.config.settings import Settings
from bot.runtime.production import haproxy_config
from tests.e2e.stack import free_port

SERVER = r"""
import sys, http.server, socketserver
ballast = bytearray(int(sys.argv[2]) * 1024 * 1024)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1  # really resident: the kernel has it to free when the process dies
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.reply()
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.reply()
    def reply(self):
        body = b'[{"text": "hi"}]'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""
BALLAST_MB = 1200
TRIALS = 3


def start_replica(script: Path, port: int, ballast_mb: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, str(script), str(port), str(ballast_mb)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/status", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the stand-in replica did not start")


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_no_error_page_after_kill_9_of_a_replica(tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    front = free_port()
    settings = Settings.from_env(
        {
            "RASA_PORT": str(front),
            "ACTION_PORT": str(free_port()),
            "RASA_REPLICA_PORTS": ",".join(map(str, ports)),
            "ACTION_REPLICA_PORTS": f"{free_port()}",
        }
    )
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(settings))
    script = tmp_path / "replica.py"
    script.write_text(SERVER)
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)])
    statuses = []
    try:
        for _ in range(TRIALS):
            doomed = start_replica(script, ports[0], BALLAST_MB)
            survivor = start_replica(script, ports[1], 10)
            time.sleep(2.5)  # both checked up by HAProxy (inter 1s)
            os.kill(doomed.pid, signal.SIGKILL)
            for _ in range(4):
                statuses.append(
                    requests.post(
                        f"http://127.0.0.1:{front}/webhooks/rest/webhook",
                        json={"sender": "v", "message": "hello"},
                        timeout=30,
                    ).status_code
                )
            doomed.wait()
            survivor.kill()
            survivor.wait()
    finally:
        haproxy.kill()
        haproxy.wait()
    assert statuses == [200] * (4 * TRIALS)
