"""`make drills` in its short form (~3 minutes): the production layout behind HAProxy under load,
with a Rasa replica and an action server killed, PostgreSQL and Redis restarted and SMTP and the
webhook endpoint down mid-run. Every drill's line must say PASS (scripts/drills.py says what
each one checks). Skipped, with the reason, where the machine lacks the services."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.stack import ROOT

pytestmark = pytest.mark.e2e

DRILLS = (
    "(a) load",
    "(b) kill -9 replica, kill -9 action server, PostgreSQL restart",
    "(c) SMTP and webhook down, then back",
    "(d) Redis restarted mid-run",
)


def _missing() -> str:
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        return "PostgreSQL server binaries (initdb, pg_ctl) not installed"
    for tool in ("redis-server", "haproxy"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return ""
    except OSError as error:
        return f"RabbitMQ not reachable on 127.0.0.1:5672 ({error})"


def test_the_short_drills_all_pass(tmp_path: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    report = tmp_path / "drills.md"
    result = subprocess.run(
        [sys.executable, "scripts/drills.py", "--short", "--out", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert [line.split(":")[0] for line in lines] == [f"PASS {drill}" for drill in DRILLS], (
        result.stdout[-4000:] + result.stderr[-4000:]
    )
    assert result.returncode == 0
    assert all(f"`PASS {drill}" in report.read_text() for drill in DRILLS)
