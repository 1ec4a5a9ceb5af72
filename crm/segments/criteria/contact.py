"""Consent and contactability: the same conditions as `crm.selectors.contactable()`."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import selectors
from crm.models import Channel, Purpose
from crm.segments.criteria.lists import campaign_choices
from crm.segments.params import Choice
from crm.segments.registry import CONTACT, BuildContext, Criterion, register, semi_join


def _campaign_param(required: bool = False) -> Choice:
    return Choice(
        "campaign",
        gettext_lazy("given to"),
        campaign_choices,
        required=required,
        help_text=gettext_lazy("Empty: the segment's campaign."),
    )


def _sender(params: dict[str, Any], ctx: BuildContext) -> int:
    return int(params.get("campaign") or ctx.campaign.pk)


@register
class ConsentCriterion(Criterion):
    name = "consent"
    label = gettext_lazy("Consent")
    group = CONTACT
    params = (
        Choice("channel", gettext_lazy("channel"), Channel.choices),
        Choice("purpose", gettext_lazy("purpose"), Purpose.choices),
        _campaign_param(),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        consents = selectors.active_consents(
            _sender(params, ctx), params["channel"], params["purpose"]
        )
        return semi_join(consents)

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        return _("Consents to %(channel)s for %(purpose)s") % {
            "channel": self.params[0].display(params["channel"], ctx).lower(),
            "purpose": self.params[1].display(params["purpose"], ctx).lower(),
        }


@register
class Contactable(Criterion):
    """Reachable on a channel: a working address or number (not bounced, not invalid), not
    suppressed (opt-out, complaint, erasure), and, with a purpose, an active consent: exactly
    `crm.selectors.contactable()`."""

    name = "contactable"
    label = gettext_lazy("Can be contacted")
    group = CONTACT
    params = (
        Choice(
            "channel",
            gettext_lazy("by"),
            [(c, label) for c, label in Channel.choices],
        ),
        Choice(
            "purpose",
            gettext_lazy("with consent for"),
            Purpose.choices,
            required=False,
            help_text=gettext_lazy("Empty: a working, not suppressed contact, consent or not."),
        ),
        _campaign_param(),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        return selectors.contactable_q(
            _sender(params, ctx), params["channel"], params.get("purpose")
        )
