"""How many threads numpy's math libraries (OpenBLAS, OpenMP, MKL) get in a Rasa process.

The NLU's products are small, one message at a time. A Rasa process serves every conversation
on one event loop, so math threads on otherwise idle cores shorten its turns: one process on 2
cores, 50 visitors qualifying at once, 44 messages/s with 2 threads against 36 with one. But
between products those threads spin, and where several Rasa processes share the cores they
take each other's (and the action server's and PostgreSQL's) CPU: two processes on 2 cores,
48-55 messages/s with one thread each, 32-55 with two (reports/profile.md, "Threads"). So each
Rasa process gets its share of the machine's cores: all of them when it is alone, one when
there are as many processes as cores. The operator's own setting always wins.
"""

from __future__ import annotations

import os
from typing import Dict, Mapping

MATH_THREAD_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def share_of_cores(rasa_processes: int, cores: int | None = None) -> int:
    """The cores of this machine per Rasa process on it, at least one."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, rasa_processes))


def sanic_workers(env: Mapping[str, str]) -> int:
    """Rasa's SANIC_WORKERS: the processes one Rasa server runs (1 if unset or unreadable)."""
    try:
        return max(1, int(env.get("SANIC_WORKERS") or 1))
    except ValueError:
        return 1


def math_thread_env(rasa_processes: int, env: Mapping[str, str]) -> Dict[str, str]:
    """The math-thread settings for one of `rasa_processes` Rasa processes on this machine,
    keeping any that `env` (the operator) sets."""
    threads = str(share_of_cores(rasa_processes))
    return {name: env.get(name) or threads for name in MATH_THREAD_SETTINGS}
