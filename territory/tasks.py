"""Background work of the territory app (queue `bulk`: never delays transactional mail)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="territory.tasks.bulk_run_territory_import")
def bulk_run_territory_import(run_id: int) -> str:
    from territory.services.imports import run_import

    run = run_import(run_id)
    return run.status if run is not None else "missing"
