"""Keeps a set of processes running: restarts a crashed one with backoff while the others keep
serving, says loudly when one is crash-looping, and stops them all only when asked (Ctrl-C /
SIGTERM). Knows nothing about Rasa: each process is a command and, optionally, a URL that
answers once it is ready.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import KW_ONLY, InitVar, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Mapping, Sequence, TextIO


@dataclass(frozen=True)
class ProcessSpec:
    """One process of the stack: what to run and how to tell it is ready."""

    name: str
    command: Sequence[str]
    ready_url: str = ""  # answers 2xx once the process serves; empty: ready once started
    env: Mapping[str, str] = field(default_factory=dict)  # on top of the launcher's environment


@dataclass(frozen=True)
class Backoff:
    """How long to wait before restarting a process that exited on its own."""

    first_s: float = 1.0
    factor: float = 2.0
    max_s: float = 30.0
    # A process that stayed up this long had recovered: its next crash starts from first_s.
    stable_after_s: float = 60.0
    # This many crashes in a row, each before stable_after_s, is a crash loop: say so loudly.
    crash_loop_after: int = 3

    def delay(self, crashes_in_a_row: int) -> float:
        return min(self.max_s, self.first_s * self.factor ** max(0, crashes_in_a_row - 1))


@dataclass
class _Running:
    spec: ProcessSpec
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    crashes_in_a_row: int = 0
    restart_at: float | None = None  # set while waiting to restart after a crash
    ready: bool = False


def answers(url: str, timeout_s: float = 1.0) -> bool:
    """True when `url` answers with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - our URLs
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass(eq=False, repr=False)
class Supervisor:
    """Starts processes, restarts the ones that crash, stops all of them on request."""

    specs: InitVar[Sequence[ProcessSpec]]
    _: KW_ONLY
    cwd: Path
    env: Mapping[str, str]
    backoff: Backoff = Backoff()
    out: TextIO = sys.stdout
    err: TextIO = sys.stderr
    clock: Callable[[], float] = time.monotonic
    is_ready: Callable[[str], bool] = answers
    pid_dir: Path | None = None

    def __post_init__(self, specs: Sequence[ProcessSpec]) -> None:
        self._running: Dict[str, _Running] = {spec.name: _Running(spec) for spec in specs}
        self.env = dict(self.env)
        self._stopping = False
        self.announced_ready = False

    # --- lifecycle ---------------------------------------------------------------------------
    def request_stop(self, *_: object) -> None:
        """Signal handler: stop everything at the next step (Ctrl-C, SIGTERM)."""
        self._stopping = True

    def start_all(self) -> None:
        for running in self._running.values():
            self._start(running)

    def run(self, on_ready: Callable[[], None], poll_s: float = 0.5) -> int:
        """Supervise until asked to stop; call `on_ready` once, when every process answers."""
        self.start_all()
        while not self._stopping:
            self.step()
            if not self.announced_ready and self.all_ready():
                self.announced_ready = True
                on_ready()
            time.sleep(poll_s)
        self.stop_all()
        return 0

    def step(self) -> None:
        """One round: notice exits, restart what is due, check readiness."""
        now = self.clock()
        for running in self._running.values():
            process = running.process
            if process is not None and process.poll() is not None:
                self._crashed(running, process.returncode, now)
            elif process is None and running.restart_at is not None and now >= running.restart_at:
                self._say(f"{running.spec.name}: restarting")
                self._start(running)
            elif process is not None and not running.ready:
                url = running.spec.ready_url
                if not url or self.is_ready(url):
                    running.ready = True
                    if running.crashes_in_a_row:
                        self._say(f"{running.spec.name}: back up")
            if (
                running.process is not None
                and running.crashes_in_a_row
                and now - running.started_at >= self.backoff.stable_after_s
            ):
                running.crashes_in_a_row = 0

    def all_ready(self) -> bool:
        return all(running.ready for running in self._running.values())

    def stop_all(self, grace_s: float = 15.0) -> None:
        """SIGTERM every process group, then SIGKILL what is still there after `grace_s`."""
        for running in self._running.values():
            if running.process is not None and running.process.poll() is None:
                _signal_group(running.process, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for running in self._running.values():
            if running.process is None:
                continue
            try:
                running.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(running.process, signal.SIGKILL)
                running.process.wait()
            self._forget_pid(running.spec.name)

    # --- what callers and tests look at ------------------------------------------------------
    def pid(self, name: str) -> int | None:
        process = self._running[name].process
        return process.pid if process is not None and process.poll() is None else None

    def crashes_in_a_row(self, name: str) -> int:
        return self._running[name].crashes_in_a_row

    # --- internals ---------------------------------------------------------------------------
    def _start(self, running: _Running) -> None:
        running.restart_at = None
        running.ready = False
        running.started_at = self.clock()
        running.process = subprocess.Popen(
            list(running.spec.command),
            cwd=self.cwd,
            env={**self.env, **running.spec.env},
            # Own process group: Ctrl-C in the terminal reaches only the launcher, which
            # then stops every process in order (and kills a process's children with it).
            start_new_session=True,
        )
        if self.pid_dir is not None:
            self.pid_dir.mkdir(parents=True, exist_ok=True)
            (self.pid_dir / f"{_slug(running.spec.name)}.pid").write_text(
                f"{running.process.pid}\n"
            )

    def _crashed(self, running: _Running, code: int, now: float) -> None:
        name = running.spec.name
        uptime = now - running.started_at
        running.process = None
        running.ready = False
        running.crashes_in_a_row = (
            1 if uptime >= self.backoff.stable_after_s else running.crashes_in_a_row + 1
        )
        delay = self.backoff.delay(running.crashes_in_a_row)
        running.restart_at = now + delay
        self._forget_pid(name)
        self._say(
            f"{name} exited with code {code} after {uptime:.0f} s; the other processes keep "
            f"serving; restarting it in {delay:.0f} s"
        )
        if running.crashes_in_a_row >= self.backoff.crash_loop_after:
            banner = "!" * 78
            self.err.write(
                f"{banner}\nCRASH LOOP: {name} has exited {running.crashes_in_a_row} times in a "
                f"row, each within {self.backoff.stable_after_s:.0f} s of starting (last exit "
                f"code {code}).\nLeadbot keeps retrying every {delay:.0f} s, but this needs a "
                f"person: read {name}'s output above.\n{banner}\n"
            )
            self.err.flush()

    def _forget_pid(self, name: str) -> None:
        if self.pid_dir is not None:
            (self.pid_dir / f"{_slug(name)}.pid").unlink(missing_ok=True)

    def _say(self, line: str) -> None:
        self.out.write(f"Leadbot: {line}\n")
        self.out.flush()


def _slug(name: str) -> str:
    return name.replace(" ", "-")


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def install_stop_handlers(supervisor: Supervisor) -> None:
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
