"""`{% crm_form_protection %}`: the anti-abuse fields every public form posting to the CRM
includes (honeypot, proof of work). Put it inside the <form>."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from crm.abuse import HONEYPOT_FIELD, POW_FIELD

register = template.Library()


@register.simple_tag
def crm_form_protection() -> SafeString:
    # The challenge itself is fetched by crm/pow.js when the page loads: a page holding a form
    # stays cacheable, and every visitor solves a fresh challenge.
    return render_to_string(
        "crm/includes/form_protection.html",
        {"honeypot_field": HONEYPOT_FIELD, "pow_field": POW_FIELD},
    )
