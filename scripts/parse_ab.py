"""`/model/parse` latency of several Rasa servers under the same load, and their memory.

    .venv/bin/python scripts/parse_ab.py 400 before=<code dir>:<model> after=.:models/<model>

Starts one Rasa server per `name=<code dir>:<model>` (`python -m rasa_ext.rasa_server run
--enable-api`, no endpoints, each with its own code directory's `.venv`), waits until each
answers, then sends each of the first N lines of `../shared/eval/hwu64_behaviours.tsv` to every
server in turn over one keep-alive connection, rotating which goes first, so that all of them
see the same load (on a shared machine, runs one after the other minutes apart differ more than
the pipelines do). Prints p50/p95/mean per server, its RSS, and how often the servers agreed on
the intent. Used for the parse-latency and RSS rows of reports/nlu/summary.md.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_SET = ROOT.parent / "shared" / "eval" / "hwu64_behaviours.tsv"
TOKEN = "parse-ab-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    count = int(sys.argv[1])
    servers = []
    for spec in sys.argv[2:]:
        name, rest = spec.split("=", 1)
        code, model = rest.split(":", 1)
        code_dir = Path(code).resolve()
        port = free_port()
        log = Path(f"/tmp/parse-ab-{name}.log").open("w")
        process = subprocess.Popen(
            [
                str(code_dir / ".venv" / "bin" / "python"),
                "-m",
                "rasa_ext.rasa_server",
                "run",
                "--enable-api",
                "--model",
                str(Path(model).resolve()),
                "--port",
                str(port),
                "--interface",
                "127.0.0.1",
                f"--auth-token={TOKEN}",
            ],
            cwd=code_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(code_dir)},
        )
        servers.append((name, port, process))
    connections: dict[str, http.client.HTTPConnection] = {}

    def parse(name: str, port: int, text: str) -> dict:
        connection = connections.get(name)
        if connection is None:
            connection = connections[name] = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=30
            )
        connection.request(
            "POST",
            f"/model/parse?token={TOKEN}",
            body=json.dumps({"text": text}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(body)
        return json.loads(body)

    try:
        for name, port, process in servers:
            started = time.perf_counter()
            while True:
                if process.poll() is not None:
                    print(f"{name} exited: see /tmp/parse-ab-{name}.log", file=sys.stderr)
                    return 1
                try:
                    parse(name, port, "hello")
                    break
                except (OSError, http.client.HTTPException, RuntimeError):
                    connections.pop(name, None)
                    time.sleep(0.5)
            print(f"{name} ready after {time.perf_counter() - started:.1f} s more", flush=True)
        with PUBLIC_SET.open(newline="") as handle:
            texts = [row["text"] for row in csv.DictReader(handle, delimiter="\t")][:count]
        millis: dict[str, list[float]] = {name: [] for name, _, _ in servers}
        intents: dict[str, list[str]] = {name: [] for name, _, _ in servers}
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        for i, text in enumerate(texts):
            first = i % len(servers)
            for name, port, _ in servers[first:] + servers[:first]:
                start = time.perf_counter()
                parsed = parse(name, port, text)
                millis[name].append((time.perf_counter() - start) * 1000)
                intents[name].append(parsed["intent"]["name"])
        load_after = Path("/proc/loadavg").read_text().split()[:3]
        for name, _, process in servers:
            values = sorted(millis[name])
            print(
                json.dumps(
                    {
                        "server": name,
                        "n": len(values),
                        "parse_p50_ms": round(statistics.median(values), 2),
                        "parse_p95_ms": round(values[int(0.95 * (len(values) - 1))], 2),
                        "parse_mean_ms": round(statistics.mean(values), 2),
                        "rss_mb": round(rss_mb(process.pid)),
                        "load_before": load_before,
                        "load_after": load_after,
                    }
                )
            )
        names = list(intents)
        for other in names[1:]:
            same = sum(a == b for a, b in zip(intents[names[0]], intents[other], strict=True))
            print(f"{names[0]} and {other}: same intent on {same} of {len(texts)}")
        return 0
    finally:
        for _, _, process in servers:
            process.send_signal(signal.SIGINT)
        for _, _, process in servers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
