"""Memory of each process of `python -m bot serve`, after start-up and after traffic.

Starts the stack as the e2e tests and scripts/bench.py do (`python -m bot serve --no-train`,
PostgreSQL in fresh databases dropped afterwards, or SQLite with `--sqlite`), reads each
process's RSS (VmRSS), anonymous and file-backed RSS, and PSS/USS (/proc/PID/smaps_rollup),
sends 20 full qualifications 5 at a time over REST, and reads them again. Prints JSON, with the
load average before and after (reports/profile.md, "Memory").

    .venv/bin/python scripts/memory_probe.py [--sqlite]
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench  # noqa: E402
from tests.e2e.stack import start_stack, stop_stack  # noqa: E402


def kb(pid: int, path: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def uss(pid: int) -> int:
    fields = ("Private_Clean", "Private_Dirty", "Private_Hugetlb")
    return sum(kb(pid, "smaps_rollup", field) for field in fields)


def name_of(pid: int) -> str:
    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    text = " ".join(c.decode() for c in cmd if c)
    if "rasa_ext.rasa_server" in text:
        return "rasa"
    if "rasa_ext.action_server" in text:
        return "actions"
    if "--role web" in text:
        return "web"
    if "--role worker" in text:
        return "worker"
    if "bot serve" in text:
        return "launcher"
    return text[:60]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def threads(pid: int) -> int:
    return kb(pid, "status", "Threads")


def snapshot(root_pid: int) -> dict:
    pids = [root_pid, *bench.descendants(root_pid)]
    rows = {}
    for pid in pids:
        rows[f"{name_of(pid)}:{pid}"] = {
            "rss": round(kb(pid, "status", "VmRSS") / 1024, 1),
            "pss": round(kb(pid, "smaps_rollup", "Pss") / 1024, 1),
            "uss": round(uss(pid) / 1024, 1),
            "anon": round(kb(pid, "status", "RssAnon") / 1024, 1),
            "file": round(kb(pid, "status", "RssFile") / 1024, 1),
            "threads": threads(pid),
        }
    rows["TOTAL"] = {
        k: round(sum(r[k] for r in rows.values()), 1) for k in ("rss", "pss", "uss", "anon", "file")
    }
    return rows


def main() -> int:
    names, env = ([], {}) if "--sqlite" in sys.argv else bench.postgres_databases()
    out: dict = {"load_start": loadavg(), "db": "postgresql" if names else "sqlite"}
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            stack = start_stack(Path(folder), env)
            out["startup_s"] = round(time.perf_counter() - started, 1)
            try:
                time.sleep(2)
                out["after_startup"] = snapshot(stack.process.pid)
                url = f"{stack.rasa_url}/webhooks/rest/webhook"
                out["traffic"] = {
                    k: v
                    for k, v in asyncio.run(bench.run_visitors(url, 20, 5)).items()
                    if k != "latencies_ms"
                }
                time.sleep(2)
                out["after_traffic"] = snapshot(stack.process.pid)
            finally:
                stop_stack(stack)
    finally:
        bench.drop_databases(names)
    out["load_end"] = loadavg()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
