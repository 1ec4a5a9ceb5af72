"""Background work on segments. Thin: each task calls a service, and is safe to run twice
(tagging, untagging, adding to a list and setting a point person are all idempotent)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="crm.segments.tasks.bulk_segment_batch", acks_late=True)
def bulk_segment_batch(segment_id: int, action: str, actor_id: int, payload: dict[str, Any]) -> int:
    """A batch action on a large segment, as its author (their rights are checked again)."""
    from django.contrib.auth import get_user_model

    from crm.models import Segment
    from crm.segments import services

    segment = Segment.objects.select_related("campaign").filter(pk=segment_id).first()
    actor = get_user_model().objects.filter(pk=actor_id, is_active=True).first()
    if segment is None or actor is None:
        return 0
    return services.apply_batch(segment, action, actor=actor, **payload)
