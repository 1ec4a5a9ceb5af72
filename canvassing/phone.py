"""Phone banking: who to call next (one caller per person at a time), outcomes, call-backs.

`claim_next` takes the next person with `SELECT … FOR UPDATE SKIP LOCKED`: simultaneous callers
never get the same person, and none waits on another. A claim lasts `claim_minutes`; an expired
claim returns the person to the queue. People whose phone carries an opt-out for this campaign
(or everywhere) are never offered.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from canvassing.editing import update_settings
from canvassing.models import Call, CallOutcome, PhoneCampaign, PhoneTarget
from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, can, scope
from crm.models import ActionType, CampaignAttachment, Channel, PhoneNumber, Suppression
from crm.segments.services import people_in
from crm.services import people as people_services
from crm.services.consent import withdraw_consent

MAX_ATTEMPTS = 3


def phone_campaigns_for(user: Any) -> QuerySet[PhoneCampaign]:
    """Caller side: phone campaigns of campaigns where the user may canvass and is a caller."""
    campaigns = scope(PhoneCampaign.objects.all(), user, Capability.CANVASS)
    return campaigns.filter(callers=user).order_by("-created_at")


def phone_campaign_for(user: Any, pk: Any) -> PhoneCampaign:
    from django.http import Http404

    try:
        return phone_campaigns_for(user).get(pk=int(pk))
    except (PhoneCampaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@transaction.atomic
def update_phone_campaign(
    phone_campaign: PhoneCampaign,
    *,
    actor: Any,
    callers: Iterable[Any] | None = None,
    **fields: Any,
) -> list[str]:
    """Change a phone campaign's settings (never its owning campaign); the names of the changed
    fields, `callers` included. People already in the queue stay, with their calls; a new
    segment adds its people (the caller runs fill_targets)."""
    return update_settings(
        phone_campaign,
        actor=actor,
        action="canvassing.phone.update",
        related=None if callers is None else ("callers", callers),
        **fields,
    )


@transaction.atomic
def fill_targets(phone_campaign: PhoneCampaign, *, actor: Any) -> int:
    """Add the segment's people who have a phone (idempotent)."""
    people = people_in(phone_campaign.segment).filter(
        Exists(PhoneNumber.objects.filter(person=OuterRef("pk")))
    )
    rows = [
        PhoneTarget(phone_campaign=phone_campaign, person_id=pk)
        for pk in people.values_list("pk", flat=True)
    ]
    created = PhoneTarget.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    record_event(
        "canvassing.phone.fill",
        actor=actor,
        campaign=phone_campaign.campaign,
        target=phone_campaign,
        data={"people": len(created)},
    )
    return len(created)


def _callable(phone_campaign: PhoneCampaign, now: dt.datetime) -> Q:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    due = Q(status=PhoneTarget.Status.PENDING) | Q(
        status=PhoneTarget.Status.CALL_BACK, call_back_at__lte=now
    )
    return free & due


def _suppressed_phone(campaign_id: int) -> Exists:
    suppressed = Suppression.objects.filter(
        Q(campaign__isnull=True) | Q(campaign_id=campaign_id),
        Q(channel="") | Q(channel=Channel.PHONE),
        key_hash=OuterRef("suppression_key"),
    )
    usable = PhoneNumber.objects.filter(person=OuterRef("person_id")).exclude(Exists(suppressed))
    return Exists(usable)


def claim_next(phone_campaign: PhoneCampaign, caller: Any) -> PhoneTarget | None:
    """Claim the next person to call for `caller`; their current live claim if they hold one."""
    if not can(caller, Capability.CANVASS, phone_campaign.campaign_id):
        raise PermissionDenied
    now = timezone.now()
    until = now + dt.timedelta(minutes=phone_campaign.claim_minutes)
    with transaction.atomic():
        held = (
            PhoneTarget.objects.select_for_update()
            .filter(phone_campaign=phone_campaign, claimed_by=caller, claimed_until__gt=now)
            .first()
        )
        if held is not None:
            return held
        target = (
            PhoneTarget.objects.select_for_update(skip_locked=True)
            .filter(_callable(phone_campaign, now), phone_campaign=phone_campaign)
            .filter(_suppressed_phone(phone_campaign.campaign_id))
            .order_by("call_back_at", "attempts", "pk")
            .first()
        )
        if target is None:
            return None
        target.claimed_by = caller
        target.claimed_until = until
        target.save(update_fields=["claimed_by", "claimed_until"])
    return target


def release(target: PhoneTarget, caller: Any) -> None:
    PhoneTarget.objects.filter(pk=target.pk, claimed_by=caller).update(claimed_until=None)


def record_call(
    target: PhoneTarget,
    caller: Any,
    *,
    outcome: str,
    client_uuid: uuid_module.UUID | None = None,
    answers: dict[str, Any] | None = None,
    note: str = "",
    call_back_at: dt.datetime | None = None,
) -> Call:
    """Record the call made under the caller's live claim; idempotent by `client_uuid`."""
    if outcome not in CallOutcome.values:
        raise ValidationError(_("Unknown call outcome."))
    if client_uuid is not None:
        existing = Call.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return existing
    now = timezone.now()
    phone_campaign = target.phone_campaign
    campaign = phone_campaign.campaign
    with transaction.atomic():
        target = PhoneTarget.objects.select_for_update().get(pk=target.pk)
        if (
            target.claimed_by_id != caller.pk
            or not target.claimed_until
            or target.claimed_until <= now
        ):
            raise ValidationError(_("Your claim on this person has expired: take the next one."))
        person = target.person
        source = f"phonebank:{phone_campaign.pk}"
        from canvassing.surveys import clean_answers

        clean = clean_answers(phone_campaign.survey, answers or {})
        try:
            with transaction.atomic():
                call = Call.objects.create(
                    client_uuid=client_uuid or uuid_module.uuid4(),
                    target=target,
                    caller=caller,
                    outcome=outcome,
                    answers=clean,
                    note=note[:5000],
                    called_at=now,
                )
        except IntegrityError:
            return Call.objects.get(client_uuid=str(client_uuid))
        action = people_services.record_action(
            person,
            ActionType.CALLED,
            campaign=campaign,
            actor=caller,
            occurred_at=now,
            source=source,
            data={"call": str(call.client_uuid), "outcome": outcome, "answers": clean},
        )
        Call.objects.filter(pk=call.pk).update(action=action)
        people_services.attach(person, campaign, CampaignAttachment.Reason.CANVASS, detail=source)
        if note.strip():
            people_services.add_note(person, note, campaign=campaign, actor=caller)
        target.attempts += 1
        target.claimed_until = None
        if outcome == CallOutcome.CALL_BACK:
            target.status = PhoneTarget.Status.CALL_BACK
            target.call_back_at = call_back_at or now + dt.timedelta(days=1)
        elif outcome == CallOutcome.DO_NOT_CALL:
            target.status = PhoneTarget.Status.DO_NOT_CALL
            withdraw_consent(person, campaign, Channel.PHONE, actor=caller, source=source)
        elif outcome in (CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL) and (
            target.attempts < MAX_ATTEMPTS
        ):
            target.status = PhoneTarget.Status.CALL_BACK
            target.call_back_at = now + dt.timedelta(hours=4)
        else:
            target.status = PhoneTarget.Status.DONE
        target.save(update_fields=["attempts", "claimed_until", "status", "call_back_at"])
        record_event(
            "canvassing.phone.call",
            actor=caller,
            campaign=campaign,
            target=call,
            data={"outcome": outcome},
        )
    return call
