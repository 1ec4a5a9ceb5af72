"""Write audit events. Callers pass the acting user; a request, when there is one, gives the IP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model

from cocarde.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cocarde.tenancy.models import Campaign


def record_event(
    action: str,
    *,
    actor: Any,
    campaign: Campaign | None = None,
    target: Model | None = None,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=user.email if user else "system",
        campaign=campaign,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
        ip_address=request.META.get("REMOTE_ADDR") if request is not None else None,
    )
