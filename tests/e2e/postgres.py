"""A throw-away PostgreSQL cluster for tests and drills that restart or break the database
(scripts/drills.py, tests/e2e/test_tracker_store_faults.py): Debian's initdb and pg_ctl on a
free port, so nobody else's database is disturbed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.e2e.stack import free_port


def server_binaries() -> Path | None:
    """The folder of pg_ctl and initdb (the newest installed version), or None."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return bins[-1].parent if bins else None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (Debian's initdb/pg_ctl) on a free port."""

    def __init__(self, folder: Path) -> None:
        found = server_binaries()
        if found is None:
            raise RuntimeError("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)")
        self.bin = found
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> PrivatePostgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.folder, self.user, self.user)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w",
            "-l", str(self.folder / "log"), *extra, action,
        )  # fmt: skip

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "immediate")
        except subprocess.SubprocessError:
            pass

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"
