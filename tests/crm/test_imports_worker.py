"""A worker killed by SIGKILL in the middle of an import leaves nothing half-written: the run
can be resumed and then imports everything exactly once."""

from __future__ import annotations

import signal
import sys
import time

import pytest

from crm.imports import services
from crm.models import ImportRun, Person
from tests.fixtures.celery import start_worker, wait_for

sys.path.insert(0, "bench")


@pytest.mark.worker
def test_worker_killed_mid_import_leaves_a_resumable_import(celery_worker, alpha, tmp_path):
    from import_roll import generate  # the benchmark's roll generator

    path = tmp_path / "com41998-LP.csv"
    generate(path, 40_000)
    with path.open("rb") as handle:
        run = services.create_import(
            actor=None, campaign=alpha, file=handle, original_name=path.name
        )
    services.start_import(run, actor=None)
    # Kill the worker while it reads the file or merges: never after the commit.
    wait_for(
        lambda: ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.RUNNING, timeout=60
    )
    time.sleep(2)  # well inside the reading or the merge of 40,000 rows
    celery_worker.kill(signal.SIGKILL)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING  # not done: the worker died in the middle
    assert Person.objects.count() == 0  # nothing half-written
    # Resume on a new worker: the staged rows (if any) are reused, the import completes once.
    worker = start_worker(tmp_path, name="w2")
    try:
        services.start_import(run, actor=None)
        wait_for(
            lambda: ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.DONE, timeout=240
        )
    finally:
        worker.kill(signal.SIGTERM)
    run.refresh_from_db()
    assert run.attempts == 2
    assert run.created == Person.objects.count() > 30_000
    assert run.created + run.duplicates_in_file == run.rows == 40_000


@pytest.mark.django_db(transaction=True)
def test_a_run_held_by_another_worker_is_not_run_twice(alpha):
    import psycopg
    from django.db import connection

    from tests.fixtures.celery import database_url_for_test_db
    from tests.fixtures.components import require_postgres

    require_postgres()
    from tests.crm.imports_helpers import SAMPLES

    with (SAMPLES / "com41998-LCE.csv").open("rb") as handle:
        run = services.create_import(
            actor=None, campaign=alpha, file=handle, original_name="com41998-LCE.csv"
        )
    assert connection.vendor == "postgresql"
    with psycopg.connect(database_url_for_test_db(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [services._LOCK_NAMESPACE, run.pk])
        assert services.execute_import(run).status == ImportRun.Status.UPLOADED
        assert Person.objects.count() == 0
        # Unlock explicitly: closing the connection releases the lock only once the server
        # process has exited, which the client does not wait for.
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [services._LOCK_NAMESPACE, run.pk])
    assert services.execute_import(run).status == ImportRun.Status.DONE
    assert Person.objects.count() == 40
