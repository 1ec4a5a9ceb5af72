"""Consent with proof: record, confirm (double opt-in), withdraw; suppression that outlives
merges, re-imports and erasure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from crm.models import ActionType, Channel, Consent, ConsentText, Person, Purpose, Suppression
from crm.services.people import record_action

SOURCES_BLOCKED_BY_SUPPRESSION = frozenset(
    {Consent.SourceKind.IMPORT, Consent.SourceKind.STAFF, Consent.SourceKind.CANVASS}
)


@dataclass(frozen=True)
class ConsentChoice:
    """What a form collected: a channel, a purpose and the exact wording shown."""

    channel: str
    purpose: str
    text: str
    granted: bool = True


def consent_text_for(campaign: Campaign, purpose: str, text: str) -> ConsentText:
    """The immutable version of this exact wording, created as the next version when new."""
    if purpose not in Purpose.values:
        raise ValueError(f"Unknown consent purpose: {purpose!r}")
    text = text.strip()
    if not text:
        raise ValueError("A consent needs the exact text shown to the person.")
    fingerprint = ConsentText.fingerprint(text)
    existing = ConsentText.objects.filter(
        campaign=campaign, purpose=purpose, text_hash=fingerprint
    ).first()
    if existing is not None:
        return existing
    for _attempt in range(3):
        latest = (
            ConsentText.objects.filter(campaign=campaign, purpose=purpose)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        try:
            with transaction.atomic():
                return ConsentText.objects.create(
                    campaign=campaign, purpose=purpose, version=(latest or 0) + 1, text=text
                )
        except IntegrityError:  # a concurrent request created it or took the version number
            existing = ConsentText.objects.filter(
                campaign=campaign, purpose=purpose, text_hash=fingerprint
            ).first()
            if existing is not None:
                return existing
    raise RuntimeError("Could not version the consent text")


def suppression_keys(person: Person, channel: str) -> list[tuple[str, str]]:
    """(kind, keyed hash) of the contact points a channel reaches."""
    if channel == Channel.EMAIL:
        return [("email", k) for k in person.emails.values_list("suppression_key", flat=True)]
    if channel in (Channel.SMS, Channel.PHONE):
        return [("phone", k) for k in person.phones.values_list("suppression_key", flat=True)]
    return []


def suppressions_for(person: Person, campaign_id: int | None, channel: str) -> list[Suppression]:
    keys = [key for _, key in suppression_keys(person, channel)]
    if not keys:
        return []
    applies = Q(campaign__isnull=True)
    if campaign_id is not None:
        applies |= Q(campaign_id=campaign_id)
    return list(
        Suppression.objects.filter(applies, key_hash__in=keys).filter(
            Q(channel="") | Q(channel=channel)
        )
    )


def roll_identities(person: Person) -> list[str]:
    """The person's identities as an electoral roll row would give them (birth name and usage
    name variants), in the import's normalised form."""
    return [key for key in (person.roll_key, person.roll_usage_key) if key]


def opposed_roll_identities() -> frozenset[str]:
    """Keyed hashes of the roll identities of people erased on request: an import of a roll
    refuses their rows (usually none or a few, so a set in memory)."""
    return frozenset(
        Suppression.objects.filter(kind=Suppression.Kind.ROLL, campaign__isnull=True).values_list(
            "key_hash", flat=True
        )
    )


def suppress_keys(
    keys: Iterable[tuple[str, str]], *, campaign_id: int | None, channel: str, reason: str
) -> int:
    rows = [
        Suppression(
            kind=kind, key_hash=key, campaign_id=campaign_id, channel=channel, reason=reason
        )
        for kind, key in keys
    ]
    created = Suppression.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


@transaction.atomic
def record_consent(
    person: Person,
    campaign: Campaign,
    choice: ConsentChoice,
    *,
    actor: Any,
    source_kind: str,
    source_detail: str = "",
    double_opt_in: bool = False,
    at: Any = None,
) -> Consent | None:
    """Store the proof of a consent. Returns None when a suppression forbids it.

    An import, a canvasser or staff can never override an opt-out. The person themselves can,
    from a form: a campaign-level opt-out is lifted by their fresh consent; a platform-wide one
    (erasure, spam complaint) only once they confirm through the link sent to them.
    """
    if choice.channel not in Channel.values:
        raise ValueError(f"Unknown consent channel: {choice.channel!r}")
    text = consent_text_for(campaign, choice.purpose, choice.text)
    now = at or timezone.now()
    if not choice.granted:
        withdraw_consent(
            person,
            campaign,
            choice.channel,
            purpose=choice.purpose,
            actor=actor,
            source=source_detail or source_kind,
        )
        return None
    blocking = suppressions_for(person, campaign.pk, choice.channel)
    if blocking and source_kind in SOURCES_BLOCKED_BY_SUPPRESSION:
        return None
    if blocking:
        platform_wide = [s for s in blocking if s.campaign_id is None]
        Suppression.objects.filter(pk__in=[s.pk for s in blocking if s.campaign_id]).delete()
        if platform_wide:
            double_opt_in = True
    consent = Consent.objects.create(
        person=person,
        campaign=campaign,
        channel=choice.channel,
        purpose=choice.purpose,
        text=text,
        given_at=now,
        source_kind=source_kind,
        source_detail=source_detail[:500],
        confirmation_required=double_opt_in,
    )
    record_action(
        person,
        ActionType.CONSENT_GIVEN,
        campaign=campaign,
        actor=actor,
        occurred_at=now,
        source=source_detail,
        data={
            "channel": choice.channel,
            "purpose": choice.purpose,
            "text_version": text.version,
            "consent": consent.pk,
        },
    )
    return consent


@transaction.atomic
def confirm_consents(consent_ids: Iterable[int], *, person: Person) -> int:
    """The person clicked the confirmation link: their pending consents now count."""
    now = timezone.now()
    pending = list(
        Consent.objects.select_for_update().filter(
            pk__in=list(consent_ids),
            person=person,
            confirmation_required=True,
            confirmed_at__isnull=True,
            withdrawn_at__isnull=True,
        )
    )
    for consent in pending:
        consent.confirmed_at = now
        consent.save(update_fields=["confirmed_at"])
        # A confirmed, explicit consent lifts a platform-wide opt-out for this campaign only:
        # the person now has a campaign-level consent; other campaigns stay suppressed.
        keys = [key for _, key in suppression_keys(person, consent.channel)]
        Suppression.objects.filter(
            key_hash__in=keys, campaign__isnull=True, channel=consent.channel
        ).delete()
        record_action(
            person,
            ActionType.CONSENT_CONFIRMED,
            campaign=consent.campaign_id,
            data={"channel": consent.channel, "purpose": consent.purpose, "consent": consent.pk},
        )
    if pending:
        record_event(
            "crm.consent.confirm",
            actor=None,
            target=person,
            data={"consents": [c.pk for c in pending]},
        )
    return len(pending)


@transaction.atomic
def withdraw_consent(
    person: Person,
    campaign: Campaign | int,
    channel: str,
    *,
    actor: Any,
    purpose: str | None = None,
    source: str = "",
    reason: str = Suppression.Reason.WITHDRAWN,
) -> int:
    """Withdraw (every purpose unless one is named) and suppress the contact points, so the
    opt-out holds through merges, re-imports and erasure. Idempotent."""
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    now = timezone.now()
    consents = Consent.objects.filter(
        person=person, campaign_id=campaign_id, channel=channel, withdrawn_at__isnull=True
    )
    if purpose:
        consents = consents.filter(purpose=purpose)
    withdrawn = consents.update(withdrawn_at=now, withdrawal_source=source[:200])
    # Without a purpose the person said "no more of this channel": suppress it for the campaign.
    if purpose is None:
        suppress_keys(
            suppression_keys(person, channel),
            campaign_id=campaign_id,
            channel=channel,
            reason=reason,
        )
    if withdrawn or purpose is None:
        record_action(
            person,
            ActionType.CONSENT_WITHDRAWN,
            campaign=campaign_id,
            actor=actor,
            source=source,
            data={"channel": channel, "purpose": purpose or "*"},
        )
        record_event(
            "crm.consent.withdraw",
            actor=actor,
            campaign=None,
            target=person,
            data={"campaign": campaign_id, "channel": channel, "purpose": purpose or "*"},
        )
    return withdrawn


def active_consents(person: Person) -> list[Consent]:
    return [
        c
        for c in person.consents.select_related("text", "campaign").filter(
            withdrawn_at__isnull=True
        )
        if c.is_active
    ]
