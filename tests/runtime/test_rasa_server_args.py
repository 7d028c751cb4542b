"""The Rasa server starts whatever its API token looks like (generated ones may start with '-'),
and its math libraries get its share of the cores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runtime.math_threads import MATH_THREAD_SETTINGS, math_thread_env, share_of_cores
from rasa_ext.rasa_server import use_math_threads, with_auth_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("token", ["-Zx0dash-first", "--double", "plain_token"])
def test_rasas_own_parser_reads_any_token(token: str) -> None:
    from rasa.__main__ import create_argument_parser

    args = with_auth_token(["run", "--port", "5005"], lambda: token)
    parsed = create_argument_parser().parse_args(args)
    assert parsed.auth_token == token
    assert parsed.port == 5005


def test_a_token_given_on_the_command_line_is_kept() -> None:
    def never() -> str:
        raise AssertionError("no token is generated when one is given")

    for given in (["run", "--auth-token", "mine"], ["run", "--auth-token=mine"]):
        assert with_auth_token(given, never) == given


# A matrix product as the NLU makes them, then the process's thread count.
_THREADS_AFTER_MATH = """
import os, sys
sys.path.insert(0, {root!r})
if {one_thread}:
    from rasa_ext.rasa_server import use_math_threads
    use_math_threads()
import numpy
numpy.ones((300, 300)) @ numpy.ones((300, 300))
print(len(os.listdir("/proc/self/task")))
"""


def _threads_after_math(one_thread: bool) -> int:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    # As many Rasa processes (Sanic workers) as cores: one core, one math thread, each.
    env["SANIC_WORKERS"] = str(os.cpu_count() or 1)
    code = _THREADS_AFTER_MATH.format(root=str(ROOT), one_thread=one_thread)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


def test_rasa_processes_sharing_the_cores_run_their_math_on_one_thread() -> None:
    """No math threads left spinning beside the event loop (they took a core from the rest)."""
    assert _threads_after_math(one_thread=True) == 1
    if (os.cpu_count() or 1) > 1:  # the check can tell: by default there would be more
        assert _threads_after_math(one_thread=False) > 1


@pytest.mark.parametrize(
    "processes, cores, threads", [(1, 2, 2), (2, 2, 1), (4, 2, 1), (1, 8, 8), (2, 8, 4), (3, 8, 2)]
)
def test_each_rasa_process_gets_its_share_of_the_cores(
    processes: int, cores: int, threads: int
) -> None:
    assert share_of_cores(processes, cores) == threads


def test_an_operators_thread_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in MATH_THREAD_SETTINGS:  # recorded, so that monkeypatch puts them back as they were
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("SANIC_WORKERS", str(os.cpu_count() or 1))
    use_math_threads()
    assert os.environ["OMP_NUM_THREADS"] == "4"
    assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"
    assert math_thread_env(1, {"MKL_NUM_THREADS": "3"})["MKL_NUM_THREADS"] == "3"
