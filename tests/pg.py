"""A throw-away PostgreSQL server for the tests: its own data folder, socket and port, stopped at the end.

Uses the Debian `postgresql` binaries (scripts/setup.sh installs them). PostgreSQL refuses to
run as root, so as root the server runs as the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here; the message says how to get them."""


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresUnavailable("PostgreSQL is not installed (Debian: apt-get install postgresql)")


class TestPostgres:
    """``listen``: also take TCP on this address (password logins from ``network``); ``durable``:
    fsync and synchronous commits as in production (a crash must not lose a committed row);
    ``prefix``: run the server under this command (``ip netns exec NAME``: on another host)."""

    def __init__(self, folder: Path, port: int, *, listen: str = "", network: str = "", durable: bool = False,
                 prefix: tuple[str, ...] = ()) -> None:
        self.folder, self.port = folder, port
        self.data, self.socket_dir = folder / "data", folder / "socket"
        self.bin = _bindir()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.listen, self.network, self.durable, self.prefix = listen, network, durable, prefix

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run([*self.prefix, *cmd], capture_output=True, text=True, timeout=120)

    def _options(self) -> str:
        safety = "" if self.durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return f"-p {self.port} -k {self.socket_dir} -c listen_addresses='{self.listen}'{safety}"

    def start(self) -> TestPostgres:
        self.socket_dir.mkdir(parents=True)
        self.data.mkdir()
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            for p in (self.folder, self.data, self.socket_dir):
                os.chown(p, pg.pw_uid, pg.pw_gid)
        init = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8",
                         "--no-sync")
        if init.returncode:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()}")
        if self.network:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.network} scram-sha-256\n")
        self.begin()
        return self

    def begin(self) -> None:
        """Start the server on the data folder as it is (after a crash: it recovers from its log)."""
        start = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                          "-o", self._options(), "start")
        if start.returncode:
            raise PostgresUnavailable(f"pg_ctl start failed: {start.stderr.strip()} {start.stdout.strip()}")

    def crash(self) -> None:
        """Stop as a power cut would: no checkpoint, no goodbye to clients."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def sql(self, statement: str) -> None:
        import psycopg2

        conn = psycopg2.connect(dbname="postgres", user=self.user, host=str(self.socket_dir), port=self.port)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
        finally:
            conn.close()

    def query(self, database: str, statement: str, *args: object) -> list[tuple]:
        """Rows of a query, as the superuser over the server's socket."""
        import psycopg2

        conn = psycopg2.connect(dbname=database, user=self.user, host=str(self.socket_dir), port=self.port)
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args)
                return cur.fetchall()
        finally:
            conn.close()

    def stop(self) -> None:
        self.crash()
        time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
