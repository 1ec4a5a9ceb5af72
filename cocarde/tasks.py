"""Platform-level tasks."""

from __future__ import annotations

import socket

from celery import shared_task
from django.db import connection


@shared_task(name="cocarde.ping")
def ping() -> dict[str, object]:
    """Proves a worker is alive and reaches the database: used by /readyz tooling and tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"worker": socket.gethostname(), "database": one == 1}
