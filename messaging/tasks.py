"""Celery tasks: thin callers of messaging.services. All idempotent; bulk work on `bulk`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cocarde.celery import app


@app.task(name="messaging.tasks.bulk_run_blast", acks_late=True)
def bulk_run_blast(blast_id: int) -> str:
    from messaging.services.pipeline import run_blast

    return run_blast(blast_id)


@app.task(name="messaging.tasks.bulk_start_blast", acks_late=True)
def bulk_start_blast(blast_id: int) -> bool:
    from messaging.services.blasts import start_blast

    return start_blast(blast_id)


@app.task(name="messaging.tasks.bulk_empty_old_provider_payloads")
def bulk_empty_old_provider_payloads() -> int:
    from cocarde.payloads import empty_payloads, retention_cutoff
    from messaging.models import ProviderEvent

    return empty_payloads(ProviderEvent.objects.all(), received_before=retention_cutoff())


@app.task(name="messaging.tasks.bulk_sweep")
def bulk_sweep() -> dict[str, Any]:
    return sweep()


def sweep(*, enqueue: bool = True) -> dict[str, Any]:
    """Every minute (beat): start due blasts, take back what dead workers held, decide A/B
    tests, finish blasts, and re-enqueue runners for blasts with work left (a broker restart
    loses queued tasks; the work is in PostgreSQL, so nothing is lost)."""
    from django.core.exceptions import ValidationError

    from messaging.models import Blast, Delivery
    from messaging.services import blasts, pipeline

    now = timezone.now()
    report: dict[str, Any] = {"started": [], "runners": []}
    for blast in Blast.objects.filter(status=Blast.Status.SCHEDULED, scheduled_at__lte=now):
        try:
            if blasts.start_blast(blast.pk):
                report["started"].append(blast.pk)
        except ValidationError as error:
            Blast.objects.filter(pk=blast.pk).update(hold_reason=" ".join(error.messages)[:300])
    report.update(pipeline.recover(now))
    for blast in Blast.objects.filter(status=Blast.Status.SENDING).select_related("campaign"):
        if blast.ab_sample_percent and not blast.ab_decided_at:
            blasts.decide_ab(blast, now=now)
        if Delivery.objects.filter(blast=blast, status=Delivery.Status.QUEUED).exists():
            if enqueue:
                bulk_run_blast.delay(blast.pk)
            report["runners"].append(blast.pk)
        else:
            pipeline.finish_if_done(blast.pk)
    return report
