"""Campaign-finance rules by legal framework, checked under a per-donor lock.

- French candidate (Code électoral L52-8): at most 4,600 EUR per donor per election, summed over
  every campaign of that election on the platform; natural persons who are French or resident in
  France; above 150 EUR never in cash; cash in total at most 20 % of the spending ceiling;
  collection only inside the campaign's window, and only once a financial agent is declared.
- French party (loi 88-227 art. 11-4): at most 7,500 EUR per person per calendar year, gifts and
  membership fees together, over every party on the platform.
- Other: the campaign's own limit (per election, per year, or none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cocarde.tenancy.models import Campaign
from donations.models import Donation, DonationAttempt, DonationSettings, Method

# How long an unpaid attempt keeps its amount reserved under the donor's cap.
RESERVATION = dt.timedelta(hours=1)
LOCK_DONOR = 7301
LOCK_CAMPAIGN_CASH = 7302
LOCK_RECEIPTS = 7303


class GiftRefused(Exception):
    """A gift the rules forbid; `message` is shown to the donor or the treasurer as is."""

    def __init__(self, message: str, *, code: str, remaining_cents: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.remaining_cents = remaining_cents


@dataclass(frozen=True)
class Rules:
    cap_cents: int | None
    cap_period: str  # DonationSettings.CapPeriod
    cash_max_single_cents: int | None
    cash_ceiling_ratio: float | None
    needs_financial_agent: bool
    needs_attestations: bool
    receipts: bool
    counts_membership_fees: bool


def settings_for(campaign: Campaign) -> DonationSettings:
    row = getattr(campaign, "_donation_settings_cache", None)
    if row is None:
        row, _created = DonationSettings.objects.get_or_create(campaign=campaign)
        campaign._donation_settings_cache = row  # type: ignore[attr-defined]
    return row


def rules_for(campaign: Campaign) -> Rules:
    framework = campaign.legal_framework
    if framework == Campaign.LegalFramework.FR_CANDIDATE:
        return Rules(460_000, "election", 15_000, 0.2, True, True, True, False)
    if framework == Campaign.LegalFramework.FR_PARTY:
        return Rules(750_000, "year", 15_000, None, True, True, True, True)
    own = settings_for(campaign)
    period = own.custom_cap_period
    cap = own.custom_cap_cents if period != DonationSettings.CapPeriod.NONE else None
    return Rules(cap, period, None, None, False, False, False, False)


def lock_donor(person_id: int) -> None:
    """Serialise every gift of one person until the transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_DONOR, person_id])


def lock_campaign(namespace: int, campaign_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, campaign_id])


def collection_problem(campaign: Campaign, *, online: bool, on: dt.date | None = None) -> str:
    """Why this campaign cannot collect now ('' when it can)."""
    rules = rules_for(campaign)
    own = settings_for(campaign)
    today = on or timezone.localdate()
    if not campaign.is_active:
        return _("This campaign no longer collects donations.")
    if rules.needs_financial_agent and not (
        campaign.financial_agent_name and campaign.financial_agent_declared_on
    ):
        return _(
            "This campaign cannot collect donations yet: no financial agent (mandataire) has "
            "been declared."
        )
    if (
        rules.needs_financial_agent
        and campaign.financial_agent_declared_on
        and (today < campaign.financial_agent_declared_on)
    ):
        return _("Donations open once the financial agent is declared.")
    if own.collection_opens_on and today < own.collection_opens_on:
        return _("Donations open on %(date)s.") % {
            "date": own.collection_opens_on.strftime("%d/%m/%Y")
        }
    if own.collection_closes_on and today > own.collection_closes_on:
        return _("The collection period of this campaign is over.")
    if online and not own.has_account:
        return _("Online donations are not available: the campaign has no payment account yet.")
    return ""


def _scope_q(campaign: Campaign, rules: Rules, at: dt.datetime, prefix: str = "") -> Q:
    """Which gifts count toward the same cap as a gift to `campaign` at `at`."""
    if rules.cap_period == "election" and campaign.election_id:
        return Q(
            **{
                f"{prefix}campaign__election_id": campaign.election_id,
                f"{prefix}campaign__legal_framework": campaign.legal_framework,
            }
        )
    if rules.cap_period == "year" and campaign.legal_framework == Campaign.LegalFramework.FR_PARTY:
        return Q(**{f"{prefix}campaign__legal_framework": campaign.legal_framework})
    return Q(**{f"{prefix}campaign": campaign})


def _year_q(rules: Rules, at: dt.datetime, field: str) -> Q:
    if rules.cap_period != "year":
        return Q()
    local = timezone.localtime(at)
    start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return Q(**{f"{field}__gte": start, f"{field}__lt": start.replace(year=start.year + 1)})


def given_cents(
    person_id: int, campaign: Campaign, *, at: dt.datetime | None = None, pending: bool = True
) -> int:
    """What counts already toward the donor's cap: net gifts, plus unpaid attempts still
    holding a reservation."""
    rules = rules_for(campaign)
    at = at or timezone.now()
    gifts: QuerySet[Any] = Donation.objects.filter(
        _scope_q(campaign, rules, at), _year_q(rules, at, "received_at"), person_id=person_id
    )
    if not rules.counts_membership_fees:
        gifts = gifts.filter(kind=Donation.Kind.GIFT)
    total = gifts.aggregate(
        total=Sum("amount_cents", default=0) - Sum("refunded_cents", default=0)
    )["total"]
    if pending:
        reserved = DonationAttempt.objects.filter(
            _scope_q(campaign, rules, at),
            _year_q(rules, at, "created_at"),
            person_id=person_id,
            status__in=[
                DonationAttempt.Status.CREATED,
                DonationAttempt.Status.PENDING,
                DonationAttempt.Status.PROCESSING,
            ],
            created_at__gte=timezone.now() - RESERVATION,
        ).aggregate(total=Sum("amount_cents", default=0))["total"]
        total += reserved
    return int(total)


def remaining_cents(
    person_id: int, campaign: Campaign, *, at: dt.datetime | None = None
) -> int | None:
    rules = rules_for(campaign)
    if rules.cap_cents is None:
        return None
    return max(0, rules.cap_cents - given_cents(person_id, campaign, at=at))


def euros(cents: int) -> str:
    return f"{cents / 100:,.2f}".replace(",", " ").replace(".", ",").replace(",00", "") + " €"


def check_gift(
    *,
    campaign: Campaign,
    person_id: int,
    amount_cents: int,
    method: str,
    natural_person: bool,
    french_or_resident: bool,
    at: dt.datetime | None = None,
    kind: str = Donation.Kind.GIFT,
) -> int | None:
    """Raise GiftRefused when the law forbids this gift. Call inside a transaction: it takes the
    donor's lock (and the campaign's cash lock for cash), so the check and the write that
    follows cannot interleave with another gift. Returns what the donor may still give after it."""
    rules = rules_for(campaign)
    at = at or timezone.now()
    if amount_cents <= 0:
        raise GiftRefused(_("Enter an amount above zero."), code="amount")
    if rules.needs_attestations and not natural_person:
        raise GiftRefused(
            _(
                "Only natural persons may give: companies and associations may not finance a "
                "campaign."
            ),
            code="natural_person",
        )
    if rules.needs_attestations and not french_or_resident:
        raise GiftRefused(
            _("Only French nationals or residents of France may give."), code="nationality"
        )
    if method == Method.CASH and rules.cash_max_single_cents is not None:
        if amount_cents > rules.cash_max_single_cents:
            raise GiftRefused(
                _(
                    "A gift above %(limit)s may not be paid in cash: use a cheque, a transfer or "
                    "a card."
                )
                % {"limit": euros(rules.cash_max_single_cents)},
                code="cash_single",
            )
    lock_donor(person_id)
    if method == Method.CASH and rules.cash_ceiling_ratio is not None:
        ceiling = settings_for(campaign).spending_ceiling_cents
        if ceiling:
            lock_campaign(LOCK_CAMPAIGN_CASH, campaign.pk)
            cash = Donation.objects.filter(campaign=campaign, method=Method.CASH).aggregate(
                total=Sum("amount_cents", default=0) - Sum("refunded_cents", default=0)
            )["total"]
            allowed = int(ceiling * rules.cash_ceiling_ratio)
            if cash + amount_cents > allowed:
                raise GiftRefused(
                    _(
                        "Cash gifts would exceed 20%% of the spending ceiling (%(allowed)s); "
                        "%(left)s left."
                    )
                    % {"allowed": euros(allowed), "left": euros(max(0, allowed - cash))},
                    code="cash_total",
                )
    if rules.cap_cents is None:
        return None
    remaining = max(0, rules.cap_cents - given_cents(person_id, campaign, at=at))
    if amount_cents > remaining:
        if remaining == 0:
            message = _("You have already given the most the law allows (%(cap)s %(period)s).")
        else:
            message = _("The law allows at most %(cap)s %(period)s: you may still give %(left)s.")
        period = _("per election") if rules.cap_period == "election" else _("per calendar year")
        raise GiftRefused(
            message % {"cap": euros(rules.cap_cents), "period": period, "left": euros(remaining)},
            code="cap",
            remaining_cents=remaining,
        )
    return remaining - amount_cents
