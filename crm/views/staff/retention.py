"""Retention rules per campaign (how long inactive people are kept)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, campaigns_for
from crm.models import (
    RetentionRule,
)
from crm.services import retention as retention_services
from crm.views.staff.access import (
    page_context,
)


def retention(request: HttpRequest) -> HttpResponse:
    campaigns = campaigns_for(request.user, Capability.MANAGE_CAMPAIGN)
    if not campaigns.exists():
        raise PermissionDenied
    plans = []
    for campaign in campaigns.select_related("election"):
        rule = RetentionRule.objects.filter(campaign=campaign).first()
        plans.append(
            {
                "campaign": campaign,
                "rule": rule,
                "plan": retention_services.plan_retention(rule) if rule else None,
            }
        )
    return render(
        request, "crm/admin/retention.html", page_context(_("Retention"), "time", plans=plans)
    )


def retention_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(
        campaigns_for(request.user, Capability.MANAGE_CAMPAIGN), pk=campaign_id
    )
    from crm.views.forms_admin import RetentionRuleForm

    rule = RetentionRule.objects.filter(campaign=campaign).first() or RetentionRule(
        campaign=campaign
    )
    form = RetentionRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        record_event("crm.retention.rule", actor=request.user, campaign=campaign, target=saved)
        if request.POST.get("apply") == "now":
            plan = retention_services.apply_retention(saved, actor=request.user)
            messages.success(
                request,
                _("Retention applied: %(d)s detached, %(e)s erased.")
                % {"d": plan.detach_count, "e": plan.erase_count},
            )
        return redirect(reverse("crm_retention"))
    plan = retention_services.plan_retention(rule) if rule.pk else None
    return render(
        request,
        "crm/admin/retention_form.html",
        page_context(
            _("Retention for %(c)s") % {"c": campaign},
            "time",
            form=form,
            plan=plan,
            campaign=campaign,
        ),
    )
