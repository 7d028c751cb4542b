"""Stacks started ahead of the tests that use them, so a Rasa server loading its model (~45 s
on a busy 2-core machine, most of it one process on one core) overlaps with the tests before.

A stack fixture registers how its stack is started (`register`) and gets it with `take`: the
stack started ahead when there is one (waiting for it to answer, as start_stack does), else
started there and then. tests/conftest.py starts each as the module `ahead` modules before the
first module using it begins (the shared `stack`: as the first test begins). Each fixture still
owns its stack: it is started for it alone, with the same settings, and stopped by the fixture
as before; a stack started ahead that no test took (a failing run with -x) is stopped at the
end of the session."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Dict, List

import pytest

# prepare(tmp_path_factory) runs in pytest's thread (temporary folders, mail sinks) and returns
# start(), which runs in a background thread when started ahead and returns the fixture's value.
Prepare = Callable[[pytest.TempPathFactory], Callable[[], Any]]


@dataclass(frozen=True)
class Launcher:
    prepare: Prepare
    stop: Callable[[Any], None]  # for a stack started ahead that no test took
    ahead: int | None = 1  # modules ahead of the first using it; None: as the first test begins


_LAUNCHERS: Dict[str, Launcher] = {}
_STARTED: Dict[str, Future] = {}
_STOPPING: List[threading.Thread] = []
STOP_ERRORS: List[str] = []  # stops that failed in the background: the session fails


def register(
    name: str, stop: Callable[[Any], None], ahead: int | None = 1
) -> Callable[[Prepare], Prepare]:
    """Register `prepare` for the fixture `name` (a decorator)."""

    def decorate(prepare: Prepare) -> Prepare:
        _LAUNCHERS[name] = Launcher(prepare, stop, ahead)
        return prepare

    return decorate


def registered() -> Dict[str, Launcher]:
    return dict(_LAUNCHERS)


def launch(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start the stack of fixture `name` in a background thread (once)."""
    if name in _STARTED or name not in _LAUNCHERS:
        return
    future: Future = Future()
    _STARTED[name] = future
    try:
        start = _LAUNCHERS[name].prepare(tmp_path_factory)
    except BaseException as error:  # noqa: BLE001 - a skip or failure, raised again by take()
        future.set_exception(error)
        return

    def run() -> None:
        try:
            future.set_result(start())
        except BaseException as error:  # noqa: BLE001 - raised again by take()
            future.set_exception(error)

    threading.Thread(target=run, name=f"prestart-{name}", daemon=True).start()


def take(name: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The fixture's stack: the one started ahead (once it answers), else a new one."""
    launch(name, tmp_path_factory)
    return _STARTED.pop(name).result()


def stop_later(stop: Callable[[Any], None], value: Any) -> None:
    """Stop a module's stack in the background while the next tests run (its ports, folders
    and databases are its own); the session waits for it at the end (`finish`)."""

    def run() -> None:
        try:
            stop(value)
        except BaseException as error:  # noqa: BLE001 - reported by finish()
            STOP_ERRORS.append(f"{getattr(stop, '__module__', '')}: {error!r}")

    thread = threading.Thread(target=run, name="stop-later", daemon=True)
    thread.start()
    _STOPPING.append(thread)


def finish() -> List[str]:
    """At the end of the session: stop what was started ahead and never taken (a failing run
    with -x), wait for the stops still running; returns the stops that failed."""
    for name, future in list(_STARTED.items()):
        _STARTED.pop(name)
        try:
            value = future.result()
        except BaseException:  # noqa: BLE001 - it never started: nothing to stop
            continue
        stop_later(_LAUNCHERS[name].stop, value)
    while _STOPPING:
        _STOPPING.pop().join()
    return list(STOP_ERRORS)
