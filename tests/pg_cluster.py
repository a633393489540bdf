"""A throwaway PostgreSQL cluster with PostGIS for test runs where no server is given.

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user
(``runuser``), as CI machines do.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def _pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    datadir: Path
    port: int
    bindir: Path
    as_user: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate",
                      "stop")
        finally:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_cluster() -> Cluster | None:
    """Start a private cluster on a free port; ``None`` when PostgreSQL is not installed."""
    bindir = _pg_bin()
    if bindir is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="disaster-pg-"))
    datadir = root / "data"
    as_user = "postgres" if os.geteuid() == 0 else None
    if as_user:
        shutil.chown(root, as_user)
    port = _free_port()
    cluster = Cluster(datadir, port, bindir, as_user)
    cluster._run(str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
                 "--no-sync", "-E", "UTF8", "--locale=C")
    cluster._run(str(bindir / "pg_ctl"), "-D", str(datadir), "-w", "-l", str(root / "log"),
                 "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                 "start")
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return cluster
        time.sleep(0.1)
    return cluster
