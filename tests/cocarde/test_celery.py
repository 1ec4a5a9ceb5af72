"""The Celery app: a real worker through the real Redis, and eager mode without Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cocarde.celery import app
from cocarde.tasks import ping
from tests.fixtures.celery import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.worker
def test_a_real_worker_runs_the_health_task_through_redis(celery_worker):
    result = ping.delay()
    assert result.get(timeout=60) == {"worker": os.uname().nodename, "database": True}
    # It really ran in the worker process, not eagerly (the log is written a moment later).
    wait_for(
        lambda: "Task cocarde.ping" in celery_worker.log() and "succeeded" in celery_worker.log()
    )


def test_delivery_settings_protect_against_lost_and_duplicated_tasks(settings):
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] > ping.retry_backoff_max
    assert app.conf.task_routes["*.bulk_*"] == {"queue": "bulk"}


def test_retry_countdown_is_capped_below_the_visibility_timeout(settings):
    """A countdown past the visibility timeout would have Redis hand the task to a second
    worker before it fires; the base task caps it."""
    from celery.exceptions import Retry

    @app.task(bind=True, name="tests.retry_probe")
    def probe(self):
        raise self.retry(countdown=10 * settings.CELERY_VISIBILITY_TIMEOUT)

    with pytest.raises(Retry) as caught:
        probe.apply(throw=True).get()
    assert caught.value.when <= 0.8 * settings.CELERY_VISIBILITY_TIMEOUT


def test_without_redis_tasks_run_in_process():
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_ENV="development", DATABASE_URL="sqlite:///:memory:")
    code = (
        "from cocarde import use_settings_for_environment; use_settings_for_environment();"
        "import django; django.setup();"
        "from cocarde.celery import app; print(app.conf.task_always_eager, app.conf.broker_url)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True", "memory://"], result.stderr
