"""`{% donation_form page %}`: the donation page's form (the sites app owns the page type).

The HTML is the same for every visitor (the page cache serves it to all): the campaign's state
is rendered here and refreshed by the script from the status endpoint; the client secret and
the donor's remaining allowance only ever travel in JSON responses."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from donations.forms import DonationForm

register = template.Library()


@register.simple_tag(takes_context=True)
def donation_form(context: dict[str, Any], page: Any) -> SafeString:
    from donations.views import page_status
    from sites.selectors import campaign_for_page

    campaign = campaign_for_page(page)
    if campaign is None:
        return SafeString("")
    state = page_status(page, campaign)
    percent = state["tax_reduction_percent"] or 0
    amounts = [
        {"value": value, "net": round(value * (100 - percent) / 100)}
        for value in (page.amount_values() or [20, 50, 100, 200])
    ]
    example = amounts[min(2, len(amounts) - 1)] if amounts else {"value": 100, "net": 34}
    progress = None
    if state["goal_cents"]:
        progress = min(100, int(100 * (state["raised_cents"] or 0) / state["goal_cents"]))
    return SafeString(
        render_to_string(
            "donations/form.html",
            {
                "page": page,
                "campaign": campaign,
                "state": state,
                "form": DonationForm(),
                "amounts": amounts,
                "example": example,
                "percent": percent,
                "progress": progress,
                "stripe_js_url": settings.STRIPE_JS_URL,
            },
            request=context.get("request"),
        )
    )
