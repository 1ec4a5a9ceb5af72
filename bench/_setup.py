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
