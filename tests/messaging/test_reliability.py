"""Reliability of blasts with real components: PostgreSQL, Redis, Celery worker processes and a
local SendGrid that counts every message it accepts. Each test asserts that every recipient
received exactly one message, counted at the provider."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from cocarde.celery import app as celery_app
from messaging.models import Blast, Delivery
from messaging.services import blasts, events
from messaging.tasks import sweep
from tests.fixtures.celery import WorkerProcess, start_worker, wait_for
from tests.fixtures.components import free_port, require_postgres, require_redis

pytestmark = [pytest.mark.worker, pytest.mark.postgres]
S = Delivery.Status


@pytest.fixture
def workers(transactional_db, tmp_path, messaging_env) -> Iterator[Callable[..., WorkerProcess]]:
    require_postgres()
    require_redis()
    messaging_env(
        MESSAGING_BATCH_SIZE=100,
        MESSAGING_CLAIM_LEASE_SECONDS=3,
        MESSAGING_RECONCILE_AFTER_SECONDS=4,
    )
    celery_app.control.purge()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    started: list[WorkerProcess] = []

    def start(name: str = "w1") -> WorkerProcess:
        worker = start_worker(tmp_path, name=name, queues="bulk,default")
        started.append(worker)
        return worker

    yield start
    celery_app.conf.task_always_eager = eager
    for worker in started:
        if worker.process.poll() is None:
            worker.kill(signal.SIGKILL)


def settle(blast: Blast, provider, timeout: float = 120) -> None:
    """What beat and the provider's webhook do: sweep every half second, and report the
    messages the provider accepted (SendGrid's `processed` events) for rows left unknown."""
    reported: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(provider.accepted):
            delivery = message["custom_args"]["cocarde_delivery"]
            if delivery not in reported:
                reported.add(delivery)
                events.apply_sendgrid_event(
                    {
                        "sg_event_id": f"processed-{delivery}",
                        "event": "processed",
                        "email": message["to"],
                        "timestamp": int(time.time()),
                        "cocarde_delivery": delivery,
                    }
                )
        sweep()
        blast.refresh_from_db()
        if blast.status == Blast.Status.SENT:
            return
        time.sleep(0.5)
    left = list(Delivery.objects.filter(blast=blast).exclude(status=S.SENT).values("status"))
    raise AssertionError(f"blast not finished: {left[:5]}")


def assert_exactly_once(blast: Blast, provider, size: int) -> None:
    counts = provider.counts()
    assert len(counts) == size, f"{size - len(counts)} recipients got nothing"
    assert max(counts.values()) == 1, f"doubles: {[a for a, n in counts.items() if n > 1][:5]}"
    assert Delivery.objects.filter(blast=blast, status=S.SENT).count() == size


def test_worker_killed_mid_blast_second_worker_finishes_each_once(
    workers, sendgrid, audience, make_blast, campaign
):
    size = 2000
    sendgrid.delay = 0.05
    blast = make_blast(audience(campaign, size))
    first = workers("w1")
    blasts.start_blast(blast.pk)
    wait_for(lambda: len(sendgrid.accepted) >= size * 0.4, timeout=120, interval=0.01)
    first.kill(signal.SIGKILL)
    assert len(sendgrid.accepted) < size  # killed mid-blast
    workers("w2")
    settle(blast, sendgrid)
    assert_exactly_once(blast, sendgrid, size)


def test_two_starts_at_the_same_instant_make_one_run(
    workers, sendgrid, audience, make_blast, campaign
):
    size = 500
    blast = make_blast(audience(campaign, size))
    workers("w1")
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def start() -> None:
        barrier.wait()
        try:
            results.append(blasts.start_blast(blast.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    settle(blast, sendgrid)
    assert_exactly_once(blast, sendgrid, size)
    assert Delivery.objects.filter(blast=blast).count() == size


def test_pause_restart_workers_resume_sends_only_the_rest(
    workers, sendgrid, audience, make_blast, campaign
):
    size = 1500
    sendgrid.delay = 0.05
    blast = make_blast(audience(campaign, size))
    worker = workers("w1")
    blasts.start_blast(blast.pk)
    wait_for(lambda: len(sendgrid.accepted) >= size * 0.3, timeout=120, interval=0.01)
    blasts.pause_blast(blast, actor=None)
    time.sleep(1)  # the chunk in flight finishes
    worker.kill(signal.SIGTERM)
    sent_before = len(sendgrid.accepted)
    assert sent_before < size
    sweep()  # a sweep while paused must not finish the blast nor start sending
    blast.refresh_from_db()
    assert blast.status == Blast.Status.PAUSED
    workers("w2")
    blasts.resume_blast(blast, actor=None)
    settle(blast, sendgrid)
    assert_exactly_once(blast, sendgrid, size)


def _reset_broker_pool() -> None:
    """Drop this process's broker connections (they pointed at the Redis that went away)."""
    from kombu import pools

    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None  # the result backend, also on the old Redis
    celery_app._local.__dict__.pop("backend", None)


def _redis_server(port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: subprocess.call(["redis-cli", "-p", str(port), "ping"],
                                     stdout=subprocess.DEVNULL) == 0)  # fmt: skip
    return process


def test_redis_restarted_mid_blast_nothing_lost_or_doubled(
    transactional_db, tmp_path, sendgrid, audience, make_blast, campaign, messaging_env, settings
):
    """Our own Redis (the shared one is never restarted): broker of this test's worker."""
    require_postgres()
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _redis_server(port, tmp_path)
    messaging_env(
        MESSAGING_BATCH_SIZE=100,
        MESSAGING_CLAIM_LEASE_SECONDS=3,
        MESSAGING_RECONCILE_AFTER_SECONDS=4,
    )
    old = (
        celery_app.conf.broker_url,
        celery_app.conf.result_backend,
        celery_app.conf.task_always_eager,
    )
    celery_app.conf.broker_url = url
    celery_app.conf.result_backend = url
    celery_app.conf.task_always_eager = False
    _reset_broker_pool()
    environ = dict(os.environ)
    worker = None
    try:
        os.environ["REDIS_URL"] = url
        settings.REDIS_URL = url
        worker = start_worker(tmp_path, name="wr", queues="bulk,default")
        size = 1500
        sendgrid.delay = 0.05
        blast = make_blast(audience(campaign, size))
        blasts.start_blast(blast.pk)
        wait_for(lambda: len(sendgrid.accepted) >= size * 0.3, timeout=120, interval=0.01)
        subprocess.call(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                        stdout=subprocess.DEVNULL)  # fmt: skip
        server.wait(timeout=30)
        time.sleep(1)
        server = _redis_server(port, tmp_path)  # empty: every queued task is gone
        _reset_broker_pool()
        settle(blast, sendgrid)
        assert_exactly_once(blast, sendgrid, size)
    finally:
        if worker is not None and worker.process.poll() is None:
            worker.kill(signal.SIGKILL)
        os.environ.clear()
        os.environ.update(environ)
        celery_app.conf.broker_url, celery_app.conf.result_backend, eager = old
        celery_app.conf.task_always_eager = eager
        _reset_broker_pool()
        server.terminate()
        server.wait(timeout=30)


def test_provider_429_and_503_with_a_worker_all_delivered_once(
    workers, sendgrid, audience, make_blast, campaign
):
    size = 600
    sendgrid.script = [(429, {"Retry-After": "2"}, 0), (503, {}, 0), (429, {"Retry-After": "1"}, 0)]
    blast = make_blast(audience(campaign, size))
    workers("w1")
    workers("w2")
    blasts.start_blast(blast.pk)
    settle(blast, sendgrid)
    assert_exactly_once(blast, sendgrid, size)
    first_429 = next(t for t, s in sendgrid.requests if s == 429)
    # Once the 429 was answered, neither worker called the provider during the 2 s it asked
    # for, except the one request each worker may already have had in flight (a runner
    # overlaps one provider call with preparing its next chunk); ignoring Retry-After would
    # send a chunk every few milliseconds.
    late = [t for t, _s in sendgrid.requests if first_429 + 0.5 < t < first_429 + 2.0]
    assert len(late) <= 2, late
