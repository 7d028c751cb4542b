"""`make profile`: where a qualification turn's time goes, under load.

Starts the stack (`python -m bot serve`) on PostgreSQL (leads and Rasa's SQL tracker store, in
fresh databases dropped afterwards) or SQLite (`--sqlite`), drives many visitors through the
13-turn happy path (greeting to a booked meeting) at once, and meanwhile samples the Rasa
server and the action server with py-spy. Every busy sample's stack (running Python, or
waiting inside a call such as a database query; idle threads are left out) is sorted into one
part of a turn (NLU, policies, tracker store read/write, action-server round trip,
(de)serialising the tracker, our database work, channel, ...), and the milliseconds each part
keeps a process busy per message are written to reports/profile.json (reports/profile.md
explains them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import drop_databases, run_visitors  # noqa: E402
from tests.e2e.stack import start_stack, stop_stack  # noqa: E402

FRAME = re.compile(r"(.*?) \((.*?)(?::\d+)?\)$")
POSTGRES_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"

# (part, markers): a sample belongs to the first part with a marker anywhere in its stack.
# Order matters: the most specific parts come first.
RASA_PARTS: Sequence[Tuple[str, Sequence[str]]] = (
    ("event broker (RabbitMQ)", ("rasa/core/brokers/", "pika/", "aio_pika/", "aiormq/")),
    ("lock store", ("lock_store.py", "redis/")),
    (
        "tracker store: read",
        (
            "tracker_store.py:retrieve",
            "tracker_store.py:_retrieve",
            "tracker_store.py:_event_query",
            "tracker_store.py:_read",
            "tracker_store.py:_last_id",
        ),
    ),
    (
        "tracker store: write",
        (
            "tracker_store.py:save",
            "tracker_store.py:_additional_events",
            "tracker_store.py:stream_events",
            "tracker_store.py:_new_events",
            "tracker_store.py:_insert",
            "tracker_store.py:_erase",
        ),
    ),
    (
        "action call: validate the answer (jsonschema)",
        ("actions/action.py:_validate_action_result", "jsonschema/"),
    ),
    (
        "action call: serialise tracker",
        ("actions/action.py:_action_call_format", "trackers.py:current_state", "events.py:as_dict"),
    ),
    (
        "action call: HTTP round trip",
        ("utils/endpoints.py:request", "aiohttp/client", "actions/action.py:run"),
    ),
    ("NLU", ("rasa/nlu/", "sklearn/", "scipy/", "processor.py:parse_message")),
    (
        "policies (prediction)",
        (
            "rasa/core/policies/",
            "policies/ensemble",
            "processor.py:predict_next",
            "processor.py:_predict_next",
            "featurizers/",
        ),
    ),
    ("responses (NLG)", ("rasa/core/nlg/",)),
    ("graph runner (dask)", ("dask/", "rasa/engine/")),
    ("channel and HTTP server", ("rasa/core/channels/", "sanic/", "rasa_ext/channels")),
    ("dialogue bookkeeping (tracker, events)", ("rasa/shared/core/", "rasa/core/processor.py")),
    ("logging", ("logging/",)),
)
ACTION_PARTS: Sequence[Tuple[str, Sequence[str]]] = (
    ("our database work (SQLAlchemy)", ("sqlalchemy/", "psycopg2", "sqlite3/")),
    ("our business logic (bot/)", ("/bot/",)),
    ("actions/ adapters", ("/actions/",)),
    (
        "deserialise the call / serialise the answer",
        ("json/", "ujson", "rasa_sdk/interfaces.py:from_dict", "action_server.py:parse_call"),
    ),
    ("rasa_sdk executor", ("rasa_sdk/",)),
    ("HTTP server", ("sanic/", "asyncio/")),
    ("thread pool", ("threading.py", "concurrent/futures")),
)


def children(pid: int) -> Dict[str, int]:
    """The pids of the stack's processes under the launcher (rasa, actions, web, worker)."""
    lines = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout.splitlines()
    found: Dict[str, int] = {}
    for line in lines:
        child, args = line.strip().split(None, 1)
        if "rasa_server" in args or "--role rasa" in args:
            found["rasa"] = int(child)
        elif "--role actions" in args or "action_server" in args:
            found["actions"] = int(child)
        elif "--role web" in args:
            found["web"] = int(child)
        elif "--role worker" in args:
            found["worker"] = int(child)
    return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds a process (and its waited-for children) has used; with
    `thread`, that thread's only (the main thread's id is the pid: the event loop)."""
    path = f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def postgres_pids() -> List[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def machine_cpu() -> Tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def cpu_snapshot(pids: Dict[str, int], launcher: int) -> Dict[str, float]:
    """CPU seconds used so far by each process of the stack, PostgreSQL (all its processes,
    shared with anyone else using it) and this load generator."""
    snapshot = {name: cpu_seconds(pid) for name, pid in pids.items()}
    for name in ("rasa", "actions"):
        if name in pids:
            snapshot[f"{name}: event loop thread"] = cpu_seconds(pids[name], pids[name])
    snapshot["launcher"] = cpu_seconds(launcher)
    snapshot["postgresql"] = sum(cpu_seconds(pid) for pid in postgres_pids())
    snapshot["load generator"] = cpu_seconds(os.getpid())
    snapshot["machine busy"], snapshot["machine total"] = machine_cpu()
    return snapshot


# Leaf frames of a thread that waits for work: uvloop's loop (C code under Sanic's serve) and
# an idle thread-pool worker. py-spy's --nonblocking mode cannot tell these are idle.
IDLE_LEAVES = ("sanic/server/runners.py:155)", "concurrent/futures/thread.py:81)")


def classify(
    path: Path, parts: Sequence[Tuple[str, Sequence[str]]], main_thread_only: bool = False
) -> Counter:
    """Samples per part, from py-spy's raw (collapsed) output: `frame;frame;... count`.

    With `main_thread_only`, only the event loop's thread: the time no other visitor's turn
    can use (threads waiting on a database do not hold the loop).
    """
    counts: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or stack.endswith(IDLE_LEAVES):
            continue
        if main_thread_only and "MainThread" not in stack.split(";", 1)[0]:
            continue
        frames = ";".join(
            f"{match.group(2)}:{match.group(1)}" if match else frame
            for frame in stack.split(";")
            for match in [FRAME.match(frame)]
        )
        part = next((name for name, markers in parts if any(m in frames for m in markers)), "other")
        counts[part] += int(count)
    return counts


def make_databases() -> Tuple[List[str], Dict[str, str]]:
    from sqlalchemy import create_engine, text

    names = [f"leadbot_profile_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("leads", "tracker")]
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return names, {
        "DATABASE_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{names[0]}",
        "TRACKER_STORE_URL": f"postgresql://postgres@127.0.0.1:5432/{names[1]}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument(
        "--sample",
        nargs="*",
        default=["rasa", "actions"],
        choices=["rasa", "actions", "web", "worker"],
        help="processes py-spy samples (CPU time is measured for all of them)",
    )
    parser.add_argument("--out", default=str(ROOT / "reports" / "profile.json"))
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    names: List[str] = []
    extra: Dict[str, str] = {}
    if not args.sqlite:
        names, extra = make_databases()
    results: Dict[str, object] = {
        "command": "python scripts/profile.py " + " ".join(sys.argv[1:]),
        "database": "sqlite" if args.sqlite else "postgresql",
        "visitors": args.visitors,
        "concurrency": args.concurrency,
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stack = start_stack(Path(tmp), extra)
            try:
                url = f"{stack.rasa_url}/webhooks/rest/webhook"
                asyncio.run(run_visitors(url, 2, 1))  # warm-up
                pids = children(stack.process.pid)
                recorders = {}
                for name, pid in pids.items():
                    if name not in args.sample:
                        continue
                    out = Path(tmp) / f"{name}.txt"
                    recorders[name] = (
                        out,
                        subprocess.Popen(
                            [
                                py_spy,
                                "record",
                                "--pid",
                                str(pid),
                                "--format",
                                "raw",
                                "--rate",
                                str(args.rate),
                                "--nonblocking",
                                "--threads",
                                "--output",
                                str(out),
                                "--duration",
                                "600",
                            ],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                        ),
                    )
                time.sleep(1)
                cpu_before = cpu_snapshot(pids, stack.process.pid)
                load = asyncio.run(run_visitors(url, args.visitors, args.concurrency))
                cpu_after = cpu_snapshot(pids, stack.process.pid)
                for _, recorder in recorders.values():
                    recorder.send_signal(2)  # py-spy writes its output on Ctrl-C
                for _, recorder in recorders.values():
                    recorder.wait(timeout=60)
                load.pop("latencies_ms", None)
                results["load"] = load
                messages = load["turns"]
                # CPU per message of every process (py-spy's own sampling included): on a
                # machine of few cores they all compete with the Rasa server for them.
                used = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
                results["cpu_ms_per_message"] = {
                    name: round(seconds * 1000 / messages, 2)
                    for name, seconds in sorted(used.items(), key=lambda kv: -kv[1])
                    if name != "machine total"
                }
                results["machine_busy_share"] = round(
                    used["machine busy"] / max(used["machine total"], 1e-9), 3
                )
                results["load_average"] = [round(x, 2) for x in os.getloadavg()]
                for name, (out, _) in recorders.items():
                    parts = {"rasa": RASA_PARTS, "actions": ACTION_PARTS}.get(name, ())
                    counts = classify(out, parts) if out.exists() else Counter()
                    loop = classify(out, parts, True) if out.exists() else Counter()
                    total, loop_total = sum(counts.values()), sum(loop.values())

                    def ms(samples: int) -> float:
                        return round(samples / args.rate * 1000 / messages, 2)

                    results[f"{name}_process"] = {
                        "samples": total,
                        "busy_ms_per_message": ms(total),
                        "event_loop_ms_per_message": ms(loop_total),
                        "parts": {
                            part: {
                                "share": round(count / total, 3),
                                "busy_ms_per_message": ms(count),
                                "event_loop_ms_per_message": ms(loop[part]),
                            }
                            for part, count in counts.most_common()
                        },
                    }
                    shutil.copy(out, Path(args.out).with_name(f"profile-{name}.collapsed.txt"))
            finally:
                stop_stack(stack)
    finally:
        if names:
            drop_databases(names)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
