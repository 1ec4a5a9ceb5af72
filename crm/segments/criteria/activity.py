"""What people did: web actions, messages opened or clicked, donations, canvass results.

Everything reads the CRM timeline (`crm.Action`, indexed by (person, type, time)). Apps that
do not exist yet write these actions, and these criteria are defined against them:

- donations (app `donations`): `Action(type="donation", occurred_at=<gift date>,
  campaign=<recipient>, data={"amount": "25.00", "currency": "EUR", "recurring": true|false,
  ...})`, the amount in major units (euros) as a decimal string or number;
- canvassing (app `canvassing`): `Action(type="door" | "call", occurred_at=<visit>,
  campaign=..., data={"outcome": "answered" | "refused" | "revisit" | "not_home" |
  "call_back" | ...})`, one action per door knock or call;
- messaging (app `messaging`): `Action(type="email_opened" | "email_clicked" | "sms_replied"
  | ..., data={"blast_id": <id>, ...})`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Action, ActionType
from crm.segments.criteria.lists import campaign_choices
from crm.segments.errors import ParamError
from crm.segments.params import Choice, DecimalAmount, Integer, MultiChoice, Text
from crm.segments.registry import ACTIVITY, BuildContext, Criterion, register, semi_join

SEGMENT_ACTION_TYPES = [
    ActionType.SIGNED_PETITION,
    ActionType.SIGNED_UP,
    ActionType.VOLUNTEERED,
    ActionType.RSVPED,
    ActionType.EMAIL_SENT,
    ActionType.EMAIL_OPENED,
    ActionType.EMAIL_CLICKED,
    ActionType.SMS_SENT,
    ActionType.SMS_REPLIED,
]
MESSAGE_ACTION_TYPES = {
    ActionType.EMAIL_SENT,
    ActionType.EMAIL_OPENED,
    ActionType.EMAIL_CLICKED,
    ActionType.SMS_SENT,
    ActionType.SMS_REPLIED,
}
# Canvass outcomes written by the canvassing app, grouped as staff ask for them.
CANVASS_OUTCOMES: dict[str, tuple[str, ...]] = {
    "answered": ("answered",),
    "refused": ("refused",),
    "revisit": ("revisit", "not_home", "call_back"),
}
CANVASS_TYPES = {
    "door": (ActionType.DOOR_KNOCKED,),
    "phone": (ActionType.CALLED,),
    "any": (ActionType.DOOR_KNOCKED, ActionType.CALLED),
}
AMOUNT = Cast(KeyTextTransform("amount", "data"), DecimalField(max_digits=14, decimal_places=2))


def _campaign_param() -> Choice:
    return Choice(
        "campaign",
        gettext_lazy("for"),
        campaign_choices,
        required=False,
        help_text=gettext_lazy("Empty: any campaign of the segment."),
    )


def _since(ctx: BuildContext, days: int | None) -> dt.datetime | None:
    return ctx.now - dt.timedelta(days=days) if days else None


class PageParam(Integer):
    """A site page id, with the pages where actions were recorded offered as suggestions."""

    def describe(self, ctx: BuildContext) -> dict[str, Any]:
        spec = super().describe(ctx)
        from wagtail.models import Page

        ids = (
            Action.objects.filter(ctx.campaign_q("campaign_id"), source_page_id__isnull=False)
            .values_list("source_page_id", flat=True)
            .distinct()[:200]
        )
        spec["suggestions"] = [
            [page.pk, page.title] for page in Page.objects.filter(pk__in=list(ids)).only("title")
        ]
        return spec


@register
class ActionCriterion(Criterion):
    """Signed petition X, RSVP'd event Y, opened or clicked blast Z, within N days."""

    name = "action"
    label = gettext_lazy("Did something")
    group = ACTIVITY
    params = (
        Choice(
            "type",
            gettext_lazy("action"),
            [(t.value, t.label) for t in SEGMENT_ACTION_TYPES],
        ),
        PageParam(
            "page",
            gettext_lazy("on the page"),
            required=False,
            min_value=1,
            help_text=gettext_lazy("A petition, event or signup page (its id)."),
        ),
        Text("blast", gettext_lazy("message"), required=False, max_length=40),
        Integer("within_days", gettext_lazy("in the last (days)"), required=False, min_value=1),
        _campaign_param(),
    )

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        if params.get("blast") and params["type"] not in MESSAGE_ACTION_TYPES:
            raise ParamError(_("A message only applies to email and SMS actions."), param="blast")
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        rows = Action.objects.filter(
            ctx.campaign_q("campaign_id", params.get("campaign")), type=params["type"]
        )
        if params.get("page"):
            rows = rows.filter(source_page_id=params["page"])
        if params.get("blast"):
            rows = rows.alias(blast=KeyTextTransform("blast_id", "data")).filter(
                blast=str(params["blast"])
            )
        if since := _since(ctx, params.get("within_days")):
            rows = rows.filter(occurred_at__gte=since)
        return semi_join(rows)


@register
class Donation(Criterion):
    """Donors: total given in a range, date of the last gift, recurring gifts.

    Every condition is about donors (at least one gift in the period); "never gave" is this
    criterion under NOT."""

    name = "donation"
    label = gettext_lazy("Donations")
    group = ACTIVITY
    params = (
        DecimalAmount("min_total", gettext_lazy("total at least (€)"), required=False),
        DecimalAmount("max_total", gettext_lazy("total at most (€)"), required=False),
        Integer(
            "period_days",
            gettext_lazy("counting gifts of the last (days)"),
            required=False,
            min_value=1,
        ),
        Integer(
            "last_within_days",
            gettext_lazy("last gift within (days)"),
            required=False,
            min_value=1,
        ),
        Integer(
            "last_before_days",
            gettext_lazy("no gift for (days)"),
            required=False,
            min_value=1,
        ),
        Choice(
            "recurring",
            gettext_lazy("recurring"),
            [
                ("any", gettext_lazy("any gift")),
                ("yes", gettext_lazy("gives monthly")),
                ("no", gettext_lazy("one-off gifts only")),
            ],
            default="any",
        ),
        _campaign_param(),
    )

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        low, high = params.get("min_total"), params.get("max_total")
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            raise ParamError(_("The lower total is above the upper total."), param="max_total")
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        gifts = Action.objects.filter(
            ctx.campaign_q("campaign_id", params.get("campaign")),
            person=OuterRef("pk"),
            type=ActionType.DONATED,
        )
        counted = gifts
        period = params.get("period_days")
        if since := _since(ctx, period):
            counted = gifts.filter(occurred_at__gte=since)
        recurring = params.get("recurring", "any")
        last_within = params.get("last_within_days")
        q = Q()
        # "Gave in the period" is implied by a recurring gift in it, by a positive minimum
        # total, or by a last gift recent enough: then one semi-join less.
        implied = (
            recurring == "yes"
            or (params.get("min_total") is not None and Decimal(params["min_total"]) > 0)
            or (last_within is not None and (period is None or last_within <= period))
        )
        if not implied:
            q &= Q(Exists(counted))
        if recurring == "yes":
            q &= Q(Exists(counted.filter(data__recurring=True)))
        elif recurring == "no":
            q &= ~Q(Exists(counted.filter(data__recurring=True)))
        if since := _since(ctx, last_within):
            q &= Q(Exists(gifts.filter(occurred_at__gte=since)))
        if since := _since(ctx, params.get("last_before_days")):
            q &= ~Q(Exists(gifts.filter(occurred_at__gte=since)))
        if params.get("min_total") is not None or params.get("max_total") is not None:
            total = Subquery(
                counted.order_by().values("person").annotate(total=Sum(AMOUNT)).values("total")[:1],
                output_field=DecimalField(max_digits=16, decimal_places=2),
            )
            if params.get("min_total") is not None:
                q &= Q(GreaterThanOrEqual(total, Decimal(params["min_total"])))
            if params.get("max_total") is not None:
                q &= Q(LessThanOrEqual(total, Decimal(params["max_total"])))
        return q


@register
class Canvass(Criterion):
    """The latest door-to-door or phone result: answered, refused, to revisit, or never visited.

    Canvass results reveal opinions (GDPR art. 9), like the timeline's door and call entries."""

    name = "canvass"
    label = gettext_lazy("Canvassing")
    group = ACTIVITY
    sensitive = True
    params = (
        Choice(
            "channel",
            gettext_lazy("by"),
            [
                ("door", gettext_lazy("door-to-door")),
                ("phone", gettext_lazy("phone")),
                ("any", gettext_lazy("door or phone")),
            ],
            default="door",
        ),
        MultiChoice(
            "results",
            gettext_lazy("latest result"),
            [
                ("answered", gettext_lazy("answered")),
                ("refused", gettext_lazy("refused")),
                ("revisit", gettext_lazy("to revisit")),
                ("never", gettext_lazy("never visited")),
            ],
        ),
        Integer("within_days", gettext_lazy("in the last (days)"), required=False, min_value=1),
        _campaign_param(),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        types = list(CANVASS_TYPES[params.get("channel", "door")])
        scope = ctx.campaign_q("campaign_id", params.get("campaign"))
        visits = Action.objects.filter(scope, person=OuterRef("pk"), type__in=types)
        if since := _since(ctx, params.get("within_days")):
            visits = visits.filter(occurred_at__gte=since)
        outcomes = [o for r in params["results"] if r != "never" for o in CANVASS_OUTCOMES[r]]
        q = Q(pk__in=[])
        if outcomes:
            later = Action.objects.filter(
                scope,
                person=OuterRef("person"),
                type__in=types,
                occurred_at__gt=OuterRef("occurred_at"),
            )
            latest = visits.filter(data__outcome__in=outcomes).filter(~Exists(later))
            q |= Q(Exists(latest))
        if "never" in params["results"]:
            q |= ~Q(Exists(visits))
        return q
