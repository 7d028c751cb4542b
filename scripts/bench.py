"""`make bench`: what a visitor waits for, measured over the REST channel.

Starts the real stack (`python -m bot serve`) on free ports with empty SQLite databases,
then runs the happy-path conversation (13 turns, greeting to booked meeting) one visitor at a time
and then with many visitors at once, and records start-up time, per-turn latency percentiles,
throughput and the servers' memory in bench/results.json. Optionally times a full training
run (--train). Uses aiohttp (httpx stalls new connections under this kind of concurrency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.stack import start_stack, stop_stack  # noqa: E402

HAPPY_PATH = [
    "hi",
    "I'd like a demo",
    "yes",
    "no thanks",
    "Jane Doe",
    "jane.doe@acme-corp.com",
    "VP of Sales",
    "Acme Corp",
    "roughly 30 of us",
    "$1,500 per month",
    "half a year",  # sales-qualified: the bot offers a rep's free times
    "the first one",  # books it (or, if another visitor was quicker, gets fresh times)
    "thanks!",
]
METADATA = {"page_url": "https://example.com/pricing?utm_source=bench", "timezone": "UTC"}


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies: List[float]) -> Dict[str, float]:
    return {
        "turns": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


async def visitor(session: aiohttp.ClientSession, url: str, latencies: List[float]) -> None:
    sender = f"bench-{uuid.uuid4().hex}"
    for text in HAPPY_PATH:
        started = time.perf_counter()
        async with session.post(
            url, json={"sender": sender, "message": text, "metadata": METADATA}
        ) as response:
            response.raise_for_status()
            await response.json()
        latencies.append(time.perf_counter() - started)


async def run_visitors(url: str, visitors: int, concurrency: int) -> Dict[str, float]:
    latencies: List[float] = []
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        semaphore = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with semaphore:
                await visitor(session, url, latencies)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(visitors)))
        elapsed = time.perf_counter() - started
    result = summary(latencies)
    result.update(
        visitors=visitors,
        concurrency=concurrency,
        seconds=round(elapsed, 2),
        messages_per_second=round(len(latencies) / elapsed, 2),
    )
    return result


def rss_mb(pid: int) -> Dict[str, float]:
    """Resident memory of the serve process's children (Rasa server, action server)."""
    children = subprocess.run(
        ["ps", "-o", "pid=,rss=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout.splitlines()
    names = {
        " rasa run": "rasa_server",
        "rasa_sdk": "action_server",
        "bot web": "web",
        "bot worker": "worker",
    }
    memory: Dict[str, float] = {}
    for line in children:
        _, rss, args = line.strip().split(None, 2)
        name = next((label for marker, label in names.items() if marker in args), "other")
        key = f"{name}_rss_mb"
        memory[key] = round(memory.get(key, 0) + int(rss) / 1024, 1)
    return memory


def time_training() -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--out", out, "--fixed-model-name", "bench"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        return round(time.perf_counter() - started, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequential", type=int, default=10, help="visitors, one at a time")
    parser.add_argument("--visitors", type=int, default=50, help="visitors in the load run")
    parser.add_argument("--concurrency", type=int, default=25, help="visitors at once")
    parser.add_argument("--train", action="store_true", help="also time a full training run")
    parser.add_argument(
        "--rasa-workers",
        type=int,
        default=1,
        help="Sanic workers for the Rasa server (> 1 uses the Redis lock store on :6379)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()

    results: Dict[str, object] = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "conversation_turns": len(HAPPY_PATH),
        "command": "python scripts/bench.py " + " ".join(sys.argv[1:]),
    }
    if args.train:
        results["training_seconds"] = time_training()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        extra_env = {}
        if args.rasa_workers > 1:
            extra_env = {
                "SANIC_WORKERS": str(args.rasa_workers),
                "LOCK_STORE_URL": "redis://127.0.0.1:6379/0",
            }
        results["rasa_workers"] = args.rasa_workers
        stack = start_stack(Path(tmp), extra_env)
        results["startup_seconds"] = round(time.perf_counter() - started, 1)
        try:
            url = f"{stack.rasa_url}/webhooks/rest/webhook"
            asyncio.run(run_visitors(url, 2, 1))  # warm-up
            results["sequential"] = asyncio.run(run_visitors(url, args.sequential, 1))
            results["concurrent"] = asyncio.run(run_visitors(url, args.visitors, args.concurrency))
            results["memory"] = rss_mb(stack.process.pid)
        finally:
            stop_stack(stack)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
