"""Background work of candidate sites. Thin: each task loads its row and calls a service.

All three are idempotent (at-least-once delivery): a finished run or row is never redone.
"""

from __future__ import annotations

from celery import shared_task

from sites.models import BulkCloneJob, SyncRun


@shared_task(name="sites.bulk_sync_template_page", acks_late=True)
def bulk_sync_template_page(run_id: int) -> dict[str, int]:
    from sites.services.sync import run_sync

    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return {}
    run = run_sync(run)
    return {"updated": run.updated, "conflicts": run.conflicts, "failed": run.failed}


@shared_task(name="sites.bulk_push_pages", acks_late=True)
def bulk_push_pages(run_id: int) -> dict[str, int]:
    from sites.services.sync import run_push

    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return {}
    run = run_push(run)
    return {"pushed": run.pushed, "failed": run.failed}


@shared_task(name="sites.bulk_clone_sites", acks_late=True)
def bulk_clone_sites(job_id: int) -> dict[str, int]:
    from sites.services.bulk import run_bulk_clone

    job = BulkCloneJob.objects.filter(pk=job_id).first()
    if job is None:
        return {}
    return run_bulk_clone(job).counts()


@shared_task(name="sites.bulk_index_pages", acks_late=True)
def bulk_index_pages(pages_by_model: dict[str, list[int]]) -> int:
    """Add newly cloned pages to the search index, one bulk call per page type."""
    from django.apps import apps
    from modelsearch.backends import get_search_backends

    done = 0
    for label, ids in pages_by_model.items():
        model = apps.get_model(label)
        objects = list(model.objects.filter(pk__in=ids))
        for backend in get_search_backends(with_auto_update=True):
            backend.add_bulk(model, objects)
        done += len(objects)
    return done
