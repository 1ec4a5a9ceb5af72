"""CRM background work. Thin: each task calls a service, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from crm.models import Consent, EmailAddress, RetentionRule


@shared_task(name="crm.tasks.transactional_send_consent_confirmation")
def transactional_send_consent_confirmation(
    email_id: int, person_uuid: str, consent_ids: list[int], campaign_id: int, base_url: str
) -> bool:
    """The double opt-in email. Skipped when nothing is left to confirm (already confirmed,
    withdrawn, or the address is gone), so a redelivered task sends nothing new."""
    from crm.services.web_actions import confirmation_token

    email = EmailAddress.objects.filter(pk=email_id).select_related("person").first()
    pending = Consent.objects.filter(
        pk__in=consent_ids, confirmed_at__isnull=True, withdrawn_at__isnull=True
    ).select_related("campaign")
    if email is None or str(email.person.uuid) != person_uuid or not pending.exists():
        return False
    campaign = pending[0].campaign
    link = f"{base_url}/crm/confirmer/{confirmation_token(person_uuid, consent_ids)}/"
    with translation.override(settings.LANGUAGE_CODE):
        context = {"link": link, "campaign": campaign}
        subject = render_to_string("crm/email/confirm_subject.txt", context).strip()
        body = render_to_string("crm/email/confirm.txt", context)
    reply_to = [campaign.contact_email] if campaign.contact_email else None
    EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [email.email], reply_to=reply_to
    ).send()
    return True


@shared_task(name="crm.tasks.bulk_apply_retention_rules")
def bulk_apply_retention_rules() -> dict[str, int]:
    """Daily (Celery beat): apply every active retention rule that is due."""
    from crm.services.retention import apply_retention

    totals = {"rules": 0, "detached": 0, "erased": 0}
    for rule in RetentionRule.objects.filter(is_active=True, campaign__is_active=True):
        plan = apply_retention(rule, actor=None)
        totals["rules"] += 1
        totals["detached"] += plan.detach_count
        totals["erased"] += plan.erase_count
    return totals


@shared_task(name="crm.tasks.bulk_run_import")
def bulk_run_import(run_id: int, dry_run: bool = False) -> dict[str, int]:
    """Check (dry run) or run an import. A redelivered task resumes from the staged rows; a
    finished import is not run twice."""
    from crm.imports.services import execute_import
    from crm.models import ImportRun

    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None:
        return {}
    return execute_import(run, dry_run=dry_run).counts


@shared_task(name="crm.tasks.bulk_undo_import")
def bulk_undo_import(run_id: int, actor_id: int | None = None) -> bool:
    from django.contrib.auth import get_user_model

    from crm.imports.services import undo_import
    from crm.models import ImportRun

    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None:
        return False
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    undo_import(run, actor=actor)
    return True


# Tasks of the segments package, registered with the worker through this module.
from crm.segments.tasks import bulk_segment_batch  # noqa: E402

__all__ = [
    "bulk_apply_retention_rules",
    "bulk_run_import",
    "bulk_undo_import",
    "bulk_segment_batch",
    "transactional_send_consent_confirmation",
]
