"""The launcher's supervisor with real processes: a crashed process is restarted with backoff
while the others keep running, a crash loop is reported loudly, and only a stop request (Ctrl-C
/ SIGTERM) stops everything."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

from bot.runtime.supervisor import Backoff, ProcessSpec, Supervisor
from tests.e2e.stack import free_port

FAST = Backoff(first_s=0.2, factor=2.0, max_s=0.8, stable_after_s=30.0, crash_loop_after=3)
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def supervise_until(supervisor: Supervisor, done, timeout_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        supervisor.step()
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_process_comes_back_and_the_others_keep_running(tmp_path: Path) -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        [ProcessSpec("actions", SLEEPER), ProcessSpec("rasa", SLEEPER)],
        cwd=tmp_path,
        env=os.environ,
        backoff=FAST,
        out=out,
        pid_dir=tmp_path / "pids",
    )
    supervisor.start_all()
    try:
        supervise_until(supervisor, supervisor.all_ready)
        killed, other = supervisor.pid("actions"), supervisor.pid("rasa")
        assert (tmp_path / "pids" / "actions.pid").read_text().strip() == str(killed)
        os.kill(killed, signal.SIGKILL)
        supervise_until(supervisor, lambda: supervisor.pid("actions") not in (None, killed))
        assert supervisor.pid("rasa") == other and alive(other)  # untouched
        assert "actions exited with code -9" in out.getvalue()
        assert "restarting" in out.getvalue()
        new_pid = supervisor.pid("actions")
        assert (tmp_path / "pids" / "actions.pid").read_text().strip() == str(new_pid)
    finally:
        supervisor.stop_all(grace_s=5)
    assert not alive(other) and not alive(new_pid)


def test_a_crash_loop_is_reported_loudly_with_growing_waits(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    crashing = ProcessSpec("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor = Supervisor(
        [crashing, ProcessSpec("web", SLEEPER)],
        cwd=tmp_path,
        env=os.environ,
        backoff=FAST,
        out=out,
        err=err,
    )
    supervisor.start_all()
    try:
        supervise_until(supervisor, lambda: supervisor.crashes_in_a_row("worker") >= 3)
        web = supervisor.pid("web")
        assert web is not None and alive(web)  # still serving
    finally:
        supervisor.stop_all(grace_s=5)
    lines = [line for line in out.getvalue().splitlines() if "exited with code 3" in line]
    assert [line.rsplit("restarting it in ", 1)[1] for line in lines[:3]] == ["0 s", "0 s", "1 s"]
    assert "CRASH LOOP: worker has exited 3 times in a row" in err.getvalue()
    assert FAST.delay(1) < FAST.delay(2) < FAST.delay(3) == FAST.delay(9) == 0.8


def test_ready_is_announced_once_servers_answer_and_a_stop_request_ends_it_all(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = ProcessSpec(
        "web",
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        ready_url=f"http://127.0.0.1:{port}/",
    )
    supervisor = Supervisor(
        [server, ProcessSpec("worker", SLEEPER)], cwd=tmp_path, env=os.environ, out=io.StringIO()
    )
    announced: list[float] = []

    def ready() -> None:
        announced.append(time.monotonic())
        assert supervisor.all_ready()
        pids.extend([supervisor.pid("web"), supervisor.pid("worker")])
        threading.Timer(0.3, supervisor.request_stop).start()  # as SIGTERM would

    pids: list[int | None] = []
    assert supervisor.run(on_ready=ready, poll_s=0.05) == 0
    assert len(announced) == 1
    assert all(pid is not None and not alive(pid) for pid in pids)
