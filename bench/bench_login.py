"""Benchmark (not a test): a burst of parallel wrong passwords against `usageledger serve`.

Starts the real server in its own process (SQLite in a temporary home, one user), fires N parallel
sign-ins with wrong passwords from 127.0.0.1, then the right password from 127.0.0.2, and prints how
many passwords the server checked (the 400 answers), how many it refused, the wall time and the server
process's peak memory (argon2 takes 64 MiB per check). Usage: python bench/bench_login.py [--guesses 60]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from usageledger.config import Settings
from usageledger.store import create_engine_for, migrate
from usageledger.store.accounts import create_tenant, create_user

EMAIL = "owner@example.com"
PASSWORD = "correct horse battery"  # a bench-only password for a throwaway database
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not answer at {url}")


def _memory_mib(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (now) of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def _token(client: httpx.Client) -> str:
    match = CSRF_RE.search(client.get("/login").text)
    assert match, "no CSRF token on /login"
    return match.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guesses", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        engine = create_engine_for(settings)
        migrate(engine)
        with engine.begin() as conn:
            create_user(conn, create_tenant(conn, "Bench"), EMAIL, PASSWORD, "admin")
        engine.dispose()

        port = _free_port()
        env = {**os.environ, "USAGELEDGER_HOME": home}
        command = [
            sys.executable,
            "-c",
            "from usageledger.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base + "/login")
            idle = _memory_mib(server.pid)
            with httpx.Client(base_url=base, timeout=120) as attacker:
                token = _token(attacker)

                def guess(n: int) -> int:
                    form = {"csrf_token": token, "email": EMAIL, "password": f"wrong guess {n}"}
                    return attacker.post("/login", data=form).status_code

                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=args.guesses) as pool:
                    statuses = Counter(pool.map(guess, range(args.guesses)))
                elapsed = time.perf_counter() - started
                huge = attacker.post(
                    "/login", data={"csrf_token": token, "email": "a" * 1_000_000, "password": "x"}
                ).status_code
            after = _memory_mib(server.pid)
            owner_transport = httpx.HTTPTransport(local_address="127.0.0.2")
            with httpx.Client(base_url=base, transport=owner_transport, timeout=120) as owner:
                form = {"csrf_token": _token(owner), "email": EMAIL, "password": PASSWORD}
                owner_status = owner.post("/login", data=form, follow_redirects=False).status_code
        finally:
            server.terminate()
            server.wait(30)
    print(
        f"{args.guesses} parallel wrong guesses in {elapsed:.2f} s: answers {dict(sorted(statuses.items()))}"
    )
    print(f"passwords checked (400): {statuses.get(400, 0)}; refused (429/503): "
          f"{statuses.get(429, 0) + statuses.get(503, 0)}")  # fmt: skip
    print(
        f"server memory: idle {idle['VmRSS']:.0f} MiB, peak {after['VmHWM']:.0f} MiB, after {after['VmRSS']:.0f} MiB"
    )
    print(
        f"a 1 MB email: HTTP {huge}; the owner from another address with the right password: HTTP {owner_status}"
    )


if __name__ == "__main__":
    main()
