"""Per-campaign retention: after the election, people the campaign no longer needs leave it.

`plan_retention()` is the dry run (what would go, and why); `apply_retention()` does it. A
person detached from their last campaign is erased (their opt-outs stay as keyed hashes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from cocarde.audit.services import record_event
from crm.models import (
    Action,
    ActionType,
    CampaignAttachment,
    Consent,
    CustomFieldValue,
    Note,
    Person,
    PersonTag,
    RetentionRule,
)
from crm.models.activity import ENGAGEMENT_ACTION_TYPES
from crm.services.consent import suppress_keys
from crm.services.gdpr import erase_person


def _months_ago(when: dt.datetime, months: int) -> dt.datetime:
    month_index = when.year * 12 + when.month - 1 - months
    year, month = divmod(month_index, 12)
    return when.replace(year=year, month=month + 1, day=min(when.day, 28))


@dataclass
class RetentionPlan:
    rule: RetentionRule
    due: bool
    due_since: dt.date | None
    reason: str
    detach_ids: list[int] = field(default_factory=list)
    erase_ids: list[int] = field(default_factory=list)

    @property
    def detach_count(self) -> int:
        return len(self.detach_ids)

    @property
    def erase_count(self) -> int:
        return len(self.erase_ids)


def _expired_people(rule: RetentionRule, now: dt.datetime) -> QuerySet[Person]:
    campaign_id = rule.campaign_id
    people = Person.objects.filter(
        Exists(CampaignAttachment.objects.filter(person=OuterRef("pk"), campaign_id=campaign_id))
    )
    if rule.keep_members:
        people = people.exclude(member_status=Person.MemberStatus.MEMBER)
    recent = _months_ago(now, rule.recent_action_months)
    people = people.exclude(
        Exists(
            Action.objects.filter(
                person=OuterRef("pk"),
                campaign_id=campaign_id,
                occurred_at__gte=recent,
                type__in=ENGAGEMENT_ACTION_TYPES,
            )
        )
    )
    if rule.keep_donors:
        people = people.exclude(
            Exists(
                Action.objects.filter(
                    person=OuterRef("pk"), campaign_id=campaign_id, type=ActionType.DONATED
                )
            )
        )
    return people


def plan_retention(rule: RetentionRule, *, now: dt.datetime | None = None) -> RetentionPlan:
    now = now or timezone.now()
    election = rule.campaign.election
    last_round = election.rounds.aggregate(last=Max("date"))["last"] if election else None
    if last_round is None:
        return RetentionPlan(rule, False, None, "no_election")
    due_since = _months_ago(
        dt.datetime.combine(last_round, dt.time(), tzinfo=now.tzinfo), -rule.months_after_election
    ).date()
    if now.date() < due_since:
        return RetentionPlan(rule, False, due_since, "not_yet")
    expired = _expired_people(rule, now)
    elsewhere = CampaignAttachment.objects.filter(person=OuterRef("pk")).exclude(
        campaign_id=rule.campaign_id
    )
    detach_ids = list(expired.filter(Exists(elsewhere)).values_list("pk", flat=True))
    erase_ids = list(expired.exclude(Exists(elsewhere)).values_list("pk", flat=True))
    return RetentionPlan(rule, True, due_since, "due", detach_ids, erase_ids)


@transaction.atomic
def apply_retention(
    rule: RetentionRule, *, actor: Any, now: dt.datetime | None = None
) -> RetentionPlan:
    """Detach or erase what the plan lists. Idempotent: a second run finds nothing left."""
    plan = plan_retention(rule, now=now)
    if plan.due:
        campaign_id = rule.campaign_id
        for person in Person.objects.filter(pk__in=plan.detach_ids):
            # Opt-outs given to this campaign survive as suppressions before the proof goes.
            for consent in (
                Consent.objects.filter(
                    person=person, campaign_id=campaign_id, withdrawn_at__isnull=False
                )
                .values_list("channel", flat=True)
                .distinct()
            ):
                from crm.services.consent import suppression_keys

                suppress_keys(
                    suppression_keys(person, consent),
                    campaign_id=campaign_id,
                    channel=consent,
                    reason="withdrawn",
                )
        people = plan.detach_ids
        Consent.objects.filter(person_id__in=people, campaign_id=campaign_id).delete()
        Action.objects.filter(person_id__in=people, campaign_id=campaign_id).delete()
        Note.objects.filter(person_id__in=people, campaign_id=campaign_id).delete()
        PersonTag.objects.filter(person_id__in=people, tag__campaign_id=campaign_id).delete()
        CustomFieldValue.objects.filter(
            person_id__in=people, field__campaign_id=campaign_id
        ).delete()
        CampaignAttachment.objects.filter(person_id__in=people, campaign_id=campaign_id).delete()
        for person in Person.objects.filter(pk__in=plan.erase_ids):
            erase_person(person, actor=actor, reason="retention")
    rule.last_run_at = timezone.now()
    rule.save(update_fields=["last_run_at"])
    record_event(
        "crm.retention.apply",
        actor=actor,
        campaign=rule.campaign,
        data={"detached": plan.detach_count, "erased": plan.erase_count, "due": plan.due},
    )
    return plan
