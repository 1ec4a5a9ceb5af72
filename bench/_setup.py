"""Shared set-up of the benchmarks: a scratch database next to DATABASE_URL's, migrated,
dropped at the end, so a benchmark never touches real data."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_ENV", "test")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cocarde.settings.test"
    import django

    django.setup()


@contextmanager
def scratch_database() -> Iterator[str]:
    """Create and migrate `test_<name>` (Django's test database machinery), yield its URL."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    # Not the test suite's database name, so a benchmark and a test run never collide.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{old_name}_{os.getpid()}"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        db = connection.settings_dict
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        url = (
            f"postgres://{user}{password}@{host}:{port}/{name}"
            if connection.vendor == "postgresql"
            else f"sqlite:///{name}"
        )
        yield url
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(
    app: str, database_url: str, *, args: list[str] | None = None, env: dict[str, str] | None = None
) -> Iterator[int]:
    """Serve `app` (module:callable) with gunicorn on a free local port against the scratch
    database, in its own session (stopped with all its workers); yields the port once it
    answers /healthz."""
    import http.client
    import signal
    import subprocess
    import tempfile
    import time

    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "cocarde.settings.test",
        **(env or {}),
    }
    environment.pop("PYTEST_XDIST_WORKER", None)
    log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{os.getpid()}.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", *(args or [])],
        cwd=ROOT, env=environment, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not start: see {log}")
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
