"""`make bench`: what a visitor waits for, against bare Rasa measured in the same run.

Starts, one after the other on free ports: a bare `rasa init` bot (bench/bare/, made and trained
on first use; default config and tuned: no UnexpecTEDIntentPolicy, `max_history: 5`), then
Leadbot (`python -m bot serve`, PostgreSQL leads and tracker store in fresh databases when the
machine has PostgreSQL, else SQLite), then Leadbot with two Rasa processes and the Redis lock
store, then the production layout (`--production`: HAProxy, Redis, RabbitMQ) with one and with
two Rasa replicas on their own ports. Talks to each over the REST channel with aiohttp and
records:

- "hello", a new conversation each time, one at a time (bare default, bare tuned, Leadbot);
- "hello", 50 visitors × 10 turns at once (bare tuned, Leadbot);
- the full qualification (13 turns, greeting to a booked meeting): one visitor; 50 visitors at
  once with no pause; throughput and p95 against concurrency, for 1 and 2 Rasa processes and
  for 1 and 2 replicas behind HAProxy, with how busy the machine's cores were (what bounds it);
- capacity: visitors chatting at once, each pausing 5 s between messages (typing); the largest
  number whose reply p95 stays ≤ 1 s;
- start-up time and resident memory.

Writes bench/results.json (with ratios to bare tuned Rasa) and PNG plots in reports/:
bench-latency-cdf.png, bench-concurrency.png, bench-capacity.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Sequence

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
HELLO = ["hello"] * 10
METADATA = {"page_url": "https://example.com/pricing?utm_source=bench", "timezone": "UTC"}
BARE_DIR = ROOT / "bench" / "bare"
REPORTS = ROOT / "reports"
POSTGRES_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
CAPACITY_P95_S = 1.0
THINK_SECONDS = 5.0


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies: Sequence[float]) -> Dict[str, float]:
    if not latencies:
        return {"turns": 0}
    return {
        "turns": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def cpu_ticks() -> tuple[int, int]:
    """The machine's busy and total CPU time so far (/proc/stat, in clock ticks)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


class CpuUse:
    """How busy the machine's cores were during a workload, and how much of it was this
    client: what bounds throughput when a second Rasa process adds little."""

    def __init__(self) -> None:
        self.ticks, self.client = cpu_ticks(), time.process_time()

    def stop(self, elapsed: float, messages: int) -> Dict[str, float]:
        (busy_now, total_now), (busy_then, total_then) = cpu_ticks(), self.ticks
        busy, total = busy_now - busy_then, total_now - total_then
        client_seconds = time.process_time() - self.client
        busy_seconds = busy / os.sysconf("SC_CLK_TCK")
        return {
            "cores_busy": round(busy / max(total, 1) * (os.cpu_count() or 1), 2),
            "client_cores": round(client_seconds / max(elapsed, 1e-9), 2),
            # Everything but this client (the stack, PostgreSQL, the kernel's network work):
            "server_cpu_ms_per_message": round(
                max(busy_seconds - client_seconds, 0.0) * 1000 / max(messages, 1), 1
            ),
        }


@dataclass
class Load:
    latencies: List[float] = field(default_factory=list)
    errors: int = 0


async def visitor(
    session: aiohttp.ClientSession,
    url: str,
    load: Load,
    script: Sequence[str] = HAPPY_PATH,
    think: float = 0.0,
    until: float | None = None,
) -> None:
    """One visitor saying `script` (again in a new conversation, while `until` allows)."""
    while True:
        sender = f"bench-{uuid.uuid4().hex}"
        for text in script:
            if until is not None and time.perf_counter() >= until:
                return
            started = time.perf_counter()
            try:
                async with session.post(
                    url, json={"sender": sender, "message": text, "metadata": METADATA}
                ) as response:
                    response.raise_for_status()
                    await response.json()
                load.latencies.append(time.perf_counter() - started)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                load.errors += 1
            if think:
                await asyncio.sleep(think * random.uniform(0.8, 1.2))
        if until is None:
            return


async def run_visitors(
    url: str, visitors: int, concurrency: int, script: Sequence[str] = HAPPY_PATH
) -> Dict[str, Any]:
    """`visitors` conversations, `concurrency` at a time, no pause between messages."""
    load = Load()
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        semaphore = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with semaphore:
                await visitor(session, url, load, script)

        started, cpu = time.perf_counter(), CpuUse()
        await asyncio.gather(*(one() for _ in range(visitors)))
        elapsed = time.perf_counter() - started
        used = cpu.stop(elapsed, len(load.latencies))
    result: Dict[str, Any] = summary(load.latencies)
    result.update(
        visitors=visitors,
        concurrency=concurrency,
        errors=load.errors,
        seconds=round(elapsed, 2),
        messages_per_second=round(len(load.latencies) / elapsed, 2),
        **used,
        latencies_ms=[round(x * 1000, 1) for x in load.latencies],
    )
    return result


async def run_capacity_step(url: str, visitors: int, seconds: float) -> Dict[str, Any]:
    """`visitors` at once, each pausing ~5 s between messages, for `seconds`."""
    load = Load()
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=visitors)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        until = time.perf_counter() + seconds

        async def one(index: int) -> None:
            await asyncio.sleep(THINK_SECONDS * index / visitors)  # arrive spread out
            await visitor(session, url, load, HAPPY_PATH, THINK_SECONDS, until)

        started, cpu = time.perf_counter(), CpuUse()
        await asyncio.gather(*(one(i) for i in range(visitors)))
        elapsed = time.perf_counter() - started
        used = cpu.stop(elapsed, len(load.latencies))
    # The first pause's worth of replies is the ramp-up; measure the steady state.
    steady = load.latencies[visitors // 2 :] or load.latencies
    result: Dict[str, Any] = summary(steady)
    result.update(
        visitors=visitors,
        errors=load.errors,
        messages_per_second=round(len(load.latencies) / elapsed, 2),
        **used,
        latencies_ms=[round(x * 1000, 1) for x in steady],
    )
    return result


def capacity(url: str, steps: Sequence[int], seconds: float) -> Dict[str, Any]:
    """The largest number of visitors (of `steps`) whose reply p95 stays ≤ 1 s, no errors."""
    measured: List[Dict[str, Any]] = []
    best = 0
    for visitors in steps:
        step = asyncio.run(run_capacity_step(url, visitors, seconds))
        measured.append(step)
        print(f"  capacity: {visitors} visitors -> p95 {step.get('p95_ms')} ms", flush=True)
        ok = step.get("turns") and step["p95_ms"] <= CAPACITY_P95_S * 1000 and not step["errors"]
        if not ok:
            break
        best = visitors
    return {"visitors_within_p95_1s": best, "steps": measured}


# -- servers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_rss_mb(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def descendants(pid: int) -> List[int]:
    found: List[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True
        ).stdout.split()
        children = [int(child) for child in out]
        found += children
        frontier += children
    return found


BARE_TUNED_CONFIG = """# rasa init's defaults, tuned: no UnexpecTEDIntentPolicy, max_history 5
recipe: default.v1
assistant_id: bench_bare_tuned
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 100
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies:
  - name: MemoizationPolicy
    max_history: 5
  - name: RulePolicy
  - name: TEDPolicy
    max_history: 5
    epochs: 100
    constrain_similarities: true
"""


def ensure_bare_bots(variants: Sequence[str] = ("default", "tuned")) -> Dict[str, Path]:
    """bench/bare/{default,tuned}: `rasa init`'s bot, trained once (models kept there).

    Only `variants` are made and trained: tuned alone (--quick, --load) is copied from the
    project `rasa init` starts from, without training the default one first."""
    default, tuned = BARE_DIR / "default", BARE_DIR / "tuned"
    if "default" not in variants and not (default / "domain.yml").exists():
        if not (tuned / "domain.yml").exists():
            from rasa.cli import scaffold

            template = Path(scaffold.__file__).parent / "initial_project"
            shutil.copytree(template, tuned, ignore=shutil.ignore_patterns("__pycache__"))
            (tuned / "config.yml").write_text(BARE_TUNED_CONFIG)
    elif not (default / "domain.yml").exists():
        default.mkdir(parents=True, exist_ok=True)
        print("making the bare Rasa reference bot (rasa init, which trains it); once", flush=True)
        subprocess.run(
            [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(default)],
            cwd=default,
            check=True,
            capture_output=True,
            input=b"",
        )
        for model in (default / "models").glob("*.tar.gz"):
            model.rename(default / "models" / "bare.tar.gz")
    if not (tuned / "domain.yml").exists() and (default / "domain.yml").exists():
        shutil.copytree(default, tuned, ignore=shutil.ignore_patterns("models", ".rasa"))
        (tuned / "config.yml").write_text(BARE_TUNED_CONFIG)
    models: Dict[str, Path] = {}
    for folder in (BARE_DIR / variant for variant in variants):
        model = folder / "models" / "bare.tar.gz"
        if not model.exists():
            print(f"training the bare Rasa reference bot ({folder.name}); once", flush=True)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rasa",
                    "train",
                    "--out",
                    "models",
                    "--fixed-model-name",
                    "bare",
                ],
                cwd=folder,
                check=True,
                capture_output=True,
            )
        models[folder.name] = model
    return models


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    startup_seconds: float

    def pids(self) -> List[int]:
        return [self.process.pid, *descendants(self.process.pid)]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_bare(model: Path, log: Path) -> Server:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rasa",
            "run",
            "--model",
            str(model),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
        ],
        cwd=model.parent.parent,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900  # TensorFlow loads slowly on a busy machine
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"bare Rasa exited:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("bare Rasa did not start in 900 s") from None
            time.sleep(0.5)
    # Rasa opens its port once the model is loaded, so a hello is answered right away. If it
    # isn't (bench/results.json of 01:42 has bare default with 50 errors and no turns; the
    # cause was not found: it answers normally when run alone), say so and measure anyway.
    answering = time.monotonic() + 60
    while not answers_hello(f"{url}/webhooks/rest/webhook"):
        if time.monotonic() > answering or process.poll() is not None:
            print(f"warning: bare Rasa does not answer a hello; see {log}", flush=True)
            break
        time.sleep(0.5)
    return Server(url, process, round(time.perf_counter() - started, 1))


def answers_hello(url: str) -> bool:
    import requests

    try:
        response = requests.post(url, json={"sender": "bench-ready", "message": "hello"}, timeout=5)
        return response.status_code == 200 and bool(response.json())
    except (requests.RequestException, ValueError):
        return False


def postgres_databases() -> tuple[List[str], Dict[str, str]]:
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", future=True)
        names = [f"leadbot_bench_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("leads", "tracker")]
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:  # noqa: BLE001 - no PostgreSQL here: SQLite, as `make run`
        return [], {}
    return names, {
        "DATABASE_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{names[0]}",
        "TRACKER_STORE_URL": f"postgresql://postgres@127.0.0.1:5432/{names[1]}",
    }


def drop_databases(names: Sequence[str]) -> None:
    if not names:
        return
    from bot.storage.engine import drop_databases as drop

    drop(POSTGRES_ADMIN, names)


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


# -- workloads -------------------------------------------------------------------------------
def hello_sequential(url: str, count: int) -> Dict[str, Any]:
    """ "hello" in a new conversation each time, one at a time."""
    return asyncio.run(run_visitors(url, count, 1, ["hello"]))


def measure_bare(model: Path, args: argparse.Namespace, tmp: Path, name: str) -> Dict[str, Any]:
    server = start_bare(model, tmp / f"bare-{name}.log")
    try:
        url = f"{server.url}/webhooks/rest/webhook"
        asyncio.run(run_visitors(url, 3, 1, ["hello"]))  # warm-up
        result: Dict[str, Any] = {"startup_seconds": server.startup_seconds}
        result["hello_sequential"] = hello_sequential(url, args.hello)
        if not args.quick and (name == "tuned" or args.full_bare):
            # --load: the "hello" throughput the 50-visitor qualification is compared with.
            result["hello_50x10"] = asyncio.run(run_visitors(url, 50, 50, HELLO))
        result["rss_mb"] = process_rss_mb(server.pids())
        return result
    finally:
        server.stop()


def measure_leadbot(
    args: argparse.Namespace, tmp: Path, processes: int, env: Dict[str, str],
    replicas: int = 0,
) -> Dict[str, Any]:  # fmt: skip
    """Leadbot as `make run` starts it (1 Rasa process, or `processes` Sanic workers sharing
    the Redis lock store), or with `replicas` > 0 the production layout: that many Rasa
    replicas on their own ports behind HAProxy, 2 action servers, 1 worker, Redis, RabbitMQ."""
    extra = dict(env)
    stack_args: List[str] = []
    queue = ""
    if replicas:
        queue = f"leadbot_bench_{uuid.uuid4().hex[:8]}"
        extra.update(
            RASA_REPLICA_PORTS=",".join(str(free_port()) for _ in range(replicas)),
            ACTION_REPLICA_PORTS=f"{free_port()},{free_port()}",
            WORKERS="1",
            LOCK_STORE_URL=args.redis,
            REDIS_URL=args.redis,
            EVENT_BROKER_URL="amqp://guest:guest@127.0.0.1:5672",
            EVENT_BROKER_QUEUE=queue,
        )
        stack_args = ["--production"]
    elif processes > 1:
        extra.update(SANIC_WORKERS=str(processes), LOCK_STORE_URL=args.redis)
    started = time.perf_counter()
    name = f"replicas-{replicas}" if replicas else f"leadbot-{processes}"
    stack = start_stack(tmp / name, extra, args=stack_args)
    startup = round(time.perf_counter() - started, 1)
    try:
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        asyncio.run(run_visitors(url, 2, 1))  # warm-up
        result: Dict[str, Any] = {
            "rasa_processes": replicas or processes,
            "startup_seconds": startup,
        }
        if replicas:
            result["layout"] = f"{replicas} Rasa replicas behind HAProxy (production layout)"
        if processes == 1 and not replicas:
            result["hello_sequential"] = hello_sequential(url, args.hello)
            if not args.quick:
                result["hello_50x10"] = asyncio.run(run_visitors(url, 50, 50, HELLO))
        sweep = []
        levels = [1] if args.quick else [1, 50] if args.load else sorted(set(args.sweep) | {1, 50})
        for concurrency in levels:
            visitors = args.sequential if concurrency == 1 else max(concurrency, 10)
            row = asyncio.run(run_visitors(url, visitors, concurrency))
            if concurrency == 1:
                result["qualification_one_visitor"] = row
            if concurrency == 50:
                result["qualification_50_at_once"] = row
            sweep.append({k: v for k, v in row.items() if k != "latencies_ms"})
        result["concurrency_sweep"] = sweep
        if processes == 1 and not replicas and args.capacity_steps and not args.quick:
            result["capacity"] = capacity(url, args.capacity_steps, args.capacity_seconds)
        result["rss_mb"] = process_rss_mb([stack.process.pid, *descendants(stack.process.pid)])
        return result
    finally:
        stop_stack(stack)
        if queue:
            delete_queue(queue)


def delete_queue(queue: str) -> None:
    """Remove the run's RabbitMQ queue (the event broker's copy of every bench event)."""

    async def delete() -> None:
        import aio_pika

        connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, durable=True)
            await declared.delete(if_unused=False, if_empty=False)

    try:
        asyncio.run(delete())
    except Exception:  # noqa: BLE001 - cleanup only
        pass


# -- plots -----------------------------------------------------------------------------------
def plots(results: Dict[str, Any]) -> List[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    REPORTS.mkdir(parents=True, exist_ok=True)
    written: List[str] = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        path = REPORTS / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(str(path.relative_to(ROOT)))

    bare, one, two = results["bare_tuned"], results["leadbot_1"], results.get("leadbot_2") or {}
    curves = [
        ("bare tuned Rasa: hello, one at a time", bare.get("hello_sequential")),
        ("bare tuned Rasa: hello, 50 visitors × 10", bare.get("hello_50x10")),
        ("Leadbot: hello, one at a time", one.get("hello_sequential")),
        ("Leadbot: hello, 50 visitors × 10", one.get("hello_50x10")),
        ("Leadbot: qualification, one visitor", one.get("qualification_one_visitor")),
        ("Leadbot: qualification, 50 at once, 1 Rasa", one.get("qualification_50_at_once")),
        ("Leadbot: qualification, 50 at once, 2 Rasa", two.get("qualification_50_at_once")),
    ]
    capacity_steps = (one.get("capacity") or {}).get("steps") or []
    best = (one.get("capacity") or {}).get("visitors_within_p95_1s")
    for step in capacity_steps:
        if step["visitors"] == best:
            curves.append((f"Leadbot: {best} visitors pausing 5 s", step))
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for label, data in curves:
        if not data or not data.get("latencies_ms"):
            continue
        values = sorted(data["latencies_ms"])
        ax.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=label)
    ax.set_xscale("log")
    ax.set_xlabel("reply latency (ms, log scale)")
    ax.set_ylabel("share of replies at or below")
    ax.set_title("Reply latency per workload (CDF)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    save(fig, "bench-latency-cdf.png")

    fig, (left, right, cores) = plt.subplots(1, 3, figsize=(15, 4.5))
    layouts = (
        ("1 Rasa process (make run)", one),
        ("2 Rasa processes (Sanic workers) + Redis lock", two),
        ("HAProxy + 1 Rasa replica (production layout)", results.get("replicas_1") or {}),
        ("HAProxy + 2 Rasa replicas (production layout)", results.get("replicas_2") or {}),
    )
    for label, data in layouts:
        sweep = data.get("concurrency_sweep") or []
        if not sweep:
            continue
        xs = [row["concurrency"] for row in sweep]
        left.plot(xs, [row["messages_per_second"] for row in sweep], marker="o", label=label)
        right.plot(xs, [row["p95_ms"] / 1000 for row in sweep], marker="o", label=label)
        if all("cores_busy" in row for row in sweep):
            cores.plot(xs, [row["cores_busy"] for row in sweep], marker="o", label=label)
    cores.axhline(os.cpu_count() or 1, color="red", linestyle="--", label="all the cores")
    cores.set_ylim(0, (os.cpu_count() or 1) * 1.1)
    cores.set_xlabel("visitors at once (no pause)")
    cores.set_ylabel("CPU cores busy (whole machine)")
    cores.set_title("What bounds it: the cores")
    left.set_xlabel("visitors at once (no pause)")
    left.set_ylabel("messages per second")
    left.set_title("Qualification throughput")
    right.set_xlabel("visitors at once (no pause)")
    right.set_ylabel("reply p95 (s)")
    right.set_title("Qualification reply p95")
    fig.suptitle(
        f"{results.get('machine', '')}; at the end {results.get('load_average_at_end')}",
        fontsize=8,
    )
    for axis in (left, right, cores):
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    save(fig, "bench-concurrency.png")

    if capacity_steps:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.plot(
            [s["visitors"] for s in capacity_steps],
            [s.get("p95_ms", 0) / 1000 for s in capacity_steps],
            marker="o",
            label="Leadbot, 1 Rasa process",
        )
        ax.axhline(CAPACITY_P95_S, color="red", linestyle="--", label="p95 = 1 s")
        ax.set_xlabel("visitors chatting at once (5 s between messages)")
        ax.set_ylabel("reply p95 (s)")
        ax.set_title(f"Capacity: {best} visitors within a 1 s p95")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, "bench-capacity.png")
    return written


def ratios(results: Dict[str, Any]) -> Dict[str, Any]:
    bare, one, two = results["bare_tuned"], results["leadbot_1"], results.get("leadbot_2") or {}
    hello_p50 = bare["hello_sequential"]["p50_ms"]
    out: Dict[str, Any] = {
        "qualification_turn_p50_vs_bare_tuned_hello_p50": round(
            one["qualification_one_visitor"]["p50_ms"] / hello_p50, 2
        ),
        "leadbot_hello_p50_vs_bare_tuned": round(one["hello_sequential"]["p50_ms"] / hello_p50, 2),
    }
    if one.get("hello_50x10") and bare.get("hello_50x10"):
        out["leadbot_hello_50x10_throughput_vs_bare_tuned"] = round(
            one["hello_50x10"]["messages_per_second"] / bare["hello_50x10"]["messages_per_second"],
            2,
        )
    if one.get("qualification_50_at_once") and bare.get("hello_50x10"):
        out["qualification_50_at_once_throughput_vs_bare_tuned_hello_50x10"] = round(
            one["qualification_50_at_once"]["messages_per_second"]
            / bare["hello_50x10"]["messages_per_second"],
            2,
        )
    for name, data in (("1_rasa", one), ("2_rasa", two)):
        at_once = data.get("qualification_50_at_once") or {}
        if "cores_busy" in at_once:
            out[f"qualification_50_at_once_cores_busy_{name}"] = at_once["cores_busy"]
            out[f"qualification_50_at_once_server_cpu_ms_per_message_{name}"] = at_once[
                "server_cpu_ms_per_message"
            ]
    replica_1 = (results.get("replicas_1") or {}).get("qualification_50_at_once")
    replica_2 = (results.get("replicas_2") or {}).get("qualification_50_at_once")
    if replica_1 and replica_2:
        out["qualification_50_at_once_throughput_2_vs_1_replicas_haproxy"] = round(
            replica_2["messages_per_second"] / replica_1["messages_per_second"], 2
        )
        out["qualification_50_at_once_cores_busy_replicas_haproxy"] = [
            replica_1.get("cores_busy"), replica_2.get("cores_busy")
        ]  # fmt: skip
    if two.get("qualification_50_at_once"):
        out["qualification_50_at_once_throughput_2_vs_1_rasa"] = round(
            two["qualification_50_at_once"]["messages_per_second"]
            / one["qualification_50_at_once"]["messages_per_second"],
            2,
        )
    return out


def strip_latencies(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_latencies(v) for k, v in value.items() if k != "latencies_ms"}
    if isinstance(value, list):
        return [strip_latencies(v) for v in value]
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hello", type=int, default=50, help="'hello' requests, one at a time")
    parser.add_argument("--sequential", type=int, default=10, help="qualifications, one at a time")
    parser.add_argument("--sweep", type=int, nargs="*", default=[1, 10, 25, 50])
    parser.add_argument(
        "--capacity-steps", type=int, nargs="*", default=[10, 25, 50, 100, 150, 200, 250, 300]
    )
    parser.add_argument("--capacity-seconds", type=float, default=40.0)
    parser.add_argument("--no-two", action="store_true", help="skip the 2-process run")
    parser.add_argument(
        "--no-replicas", action="store_true",
        help="skip the production layout runs (1 and 2 Rasa replicas behind HAProxy)",
    )  # fmt: skip
    parser.add_argument("--full-bare", action="store_true", help="hello × 50 on bare default too")
    parser.add_argument("--sqlite", action="store_true", help="Leadbot on SQLite")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--train", action="store_true", help="also time a full training run")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one visitor at a time only (bare tuned and Leadbot: hello, one qualification "
        "visitor, start-up, RSS); no load, capacity, 2-process runs or plots; a few minutes",
    )
    parser.add_argument(
        "--load",
        action="store_true",
        help="the load figures only, a few minutes: bare tuned (hello one at a time, 50 "
        "visitors × 10 hellos) and Leadbot with 1 Rasa process (hello, one qualification "
        "visitor, 50 qualifications at once, capacity at a 5 s pause); no bare default, no "
        "2-process run (add --two), no plots; give --capacity-steps and --capacity-seconds "
        "to shorten the capacity search",
    )
    parser.add_argument("--two", action="store_true", help="with --load: the 2-process run too")
    parser.add_argument("--out", default=None, help="default bench/results.json (--quick: …-quick)")
    args = parser.parse_args()
    if args.out is None:
        kind = "-quick" if args.quick else "-load" if args.load else ""
        args.out = str(ROOT / "bench" / f"results{kind}.json")
    if args.load:
        args.no_two = args.no_two or not args.two

    results: Dict[str, Any] = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"load average at start {os.getloadavg()[0]:.1f}"
        ),
        "conversation_turns": len(HAPPY_PATH),
        "command": "python scripts/bench.py " + " ".join(sys.argv[1:]),
    }
    models = ensure_bare_bots(("tuned",) if args.quick or args.load else ("default", "tuned"))
    if args.train:
        results["leadbot_training_seconds"] = time_training()
    names: List[str] = []
    env: Dict[str, str] = {}
    if not args.sqlite:
        names, env = postgres_databases()
    results["leadbot_database"] = "postgresql" if names else "sqlite"
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            for variant in ("tuned",) if args.quick or args.load else ("default", "tuned"):
                print(f"bare Rasa ({variant})", flush=True)
                results[f"bare_{variant}"] = measure_bare(models[variant], args, tmp, variant)
            print("Leadbot, 1 Rasa process", flush=True)
            results["leadbot_1"] = measure_leadbot(args, tmp, 1, env)
            if not args.no_two and not args.quick:
                print("Leadbot, 2 Rasa processes", flush=True)
                results["leadbot_2"] = measure_leadbot(args, tmp, 2, env)
            if names and not args.quick and not args.load and not args.no_replicas:
                if shutil.which("haproxy") is None:
                    print("no HAProxy (scripts/ensure-haproxy.sh): no replica runs", flush=True)
                else:
                    for count in (1, 2):
                        print(f"Leadbot, {count} Rasa replica(s) behind HAProxy", flush=True)
                        results[f"replicas_{count}"] = measure_leadbot(
                            args, tmp, 1, env, replicas=count
                        )
    finally:
        drop_databases(names)
    results["load_average_at_end"] = round(os.getloadavg()[0], 1)
    results["ratios"] = ratios(results)
    if not args.quick and not args.load:
        results["plots"] = plots(results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    stripped = strip_latencies(results)
    Path(args.out).write_text(json.dumps(stripped, indent=2) + "\n")
    print(json.dumps(stripped, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
