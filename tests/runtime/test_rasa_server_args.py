"""The Rasa server starts whatever its API token looks like (generated ones may start with '-'),
and its math libraries run on one thread."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rasa_ext.rasa_server import ONE_THREAD_MATH, use_one_thread_math, with_auth_token

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
    from rasa_ext.rasa_server import use_one_thread_math
    use_one_thread_math()
import numpy
numpy.ones((300, 300)) @ numpy.ones((300, 300))
print(len(os.listdir("/proc/self/task")))
"""


def _threads_after_math(one_thread: bool) -> int:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    code = _THREADS_AFTER_MATH.format(root=str(ROOT), one_thread=one_thread)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


def test_the_rasa_servers_math_runs_on_one_thread() -> None:
    """No math threads left spinning beside the event loop (they took a second core)."""
    assert _threads_after_math(one_thread=True) == 1
    if (os.cpu_count() or 1) > 1:  # the check can tell: by default there would be more
        assert _threads_after_math(one_thread=False) > 1


def test_an_operators_thread_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ONE_THREAD_MATH:  # recorded, so that monkeypatch puts them back as they were
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    use_one_thread_math()
    assert os.environ["OMP_NUM_THREADS"] == "4"
    assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"
