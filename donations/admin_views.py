"""The treasurer's screens in the Wagtail admin: gifts with totals, exports, offline gifts,
refunds, receipt ranges and receipts, the campaign's payment account. Thin: access through
cocarde.tenancy.permissions (another campaign's row is a 404), changes through services."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, campaign_ids_for, campaigns_for, scope
from crm.exports import neutralise, write_xlsx
from donations import selectors
from donations.forms import AccountForm, OfflineGiftForm, ReceiptRangeForm
from donations.models import Donation, Receipt, ReceiptRange
from donations.services import accounts, ledger, receipts, rules


def _base(title: str, icon: str = "form", **context: Any) -> dict[str, Any]:
    return {"page_title": title, "header_title": title, "header_icon": icon, **context}


def _require_any(user: Any, capability: Capability) -> None:
    ids = campaign_ids_for(user, capability)
    if ids is not None and not ids:
        raise PermissionDenied


def _campaign_filter(request: HttpRequest) -> int | None:
    raw = request.GET.get("campaign", "")
    return int(raw) if raw.isdigit() else None


def donation_list(request: HttpRequest) -> HttpResponse:
    _require_any(request.user, Capability.VIEW_DONATIONS)
    campaign_id = _campaign_filter(request)
    gifts = selectors.donations_for(request.user, campaign_id)
    page = Paginator(gifts.prefetch_related("receipts"), 50).get_page(request.GET.get("p"))
    return render(
        request,
        "donations/admin/list.html",
        _base(
            _("Donations"),
            page=page,
            totals=selectors.totals(gifts),
            campaigns=campaigns_for(request.user, Capability.VIEW_DONATIONS),
            campaign_id=campaign_id,
            can_manage=bool(
                campaign_ids_for(request.user, Capability.MANAGE_DONATIONS) is None
                or campaign_ids_for(request.user, Capability.MANAGE_DONATIONS)
            ),
        ),
    )


def _export(request: HttpRequest) -> tuple[Any, int]:
    _require_any(request.user, Capability.VIEW_DONATIONS)
    gifts = selectors.donations_for(request.user, _campaign_filter(request))
    count = gifts.count()
    record_event(
        "donations.export",
        actor=request.user,
        data={"count": count, "campaign": _campaign_filter(request)},
        request=request,
    )
    return gifts, count


def export_csv(request: HttpRequest) -> HttpResponse:
    gifts, _count = _export(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dons.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    for row in selectors.export_rows(gifts):
        writer.writerow([neutralise(v) for v in row])
    return response


def export_xlsx(request: HttpRequest) -> HttpResponse:
    gifts, _count = _export(request)
    buffer = io.BytesIO()
    write_xlsx(selectors.export_rows(gifts), buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="dons.xlsx"'
    return response


def offline_gift(request: HttpRequest) -> HttpResponse:
    managed = campaigns_for(request.user, Capability.MANAGE_DONATIONS)
    if not managed.exists():
        raise PermissionDenied
    form = OfflineGiftForm(request.POST or None, campaigns=managed)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ledger.record_offline_gift(
                campaign=data["campaign"],
                identity=form.identity(),
                amount_cents=int(Decimal(data["amount"]) * 100),
                method=data["method"],
                received_on=data["received_on"],
                actor=request.user,
                kind=data["kind"],
                reference=data.get("reference") or "",
            )
        except rules.GiftRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Gift recorded."))
            return redirect(f"{_url('donations_admin_list')}?campaign={data['campaign'].pk}")
    return render(request, "donations/admin/form.html", _base(_("Offline gift"), form=form))


def _url(name: str, *args: Any) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


@require_POST
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    gift = get_object_or_404(
        scope(Donation.objects.all(), request.user, Capability.MANAGE_DONATIONS), pk=pk
    )
    raw = request.POST.get("amount", "").replace(",", ".").strip()
    amount = int(Decimal(raw) * 100) if raw else None
    try:
        ledger.refund(gift, actor=request.user, amount_cents=amount)
    except ValueError:
        messages.error(request, _("Enter an amount up to what is left of the gift."))
    else:
        messages.success(request, _("Refund recorded."))
    return redirect(f"{_url('donations_admin_list')}?campaign={gift.campaign_id}")


def receipt_list(request: HttpRequest) -> HttpResponse:
    _require_any(request.user, Capability.VIEW_DONATIONS)
    managed = campaigns_for(request.user, Capability.MANAGE_DONATIONS)
    form = ReceiptRangeForm(request.POST or None, campaigns=managed)
    if request.method == "POST":
        if not managed.exists():
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                receipts.add_range(
                    data["campaign"], data["first_number"], data["last_number"], actor=request.user
                )
            except receipts.ReceiptError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Receipt range added."))
                return redirect(_url("donations_admin_receipts"))
    visible = scope(Receipt.objects.all(), request.user, Capability.VIEW_DONATIONS)
    campaign_id = _campaign_filter(request)
    if campaign_id:
        visible = visible.filter(campaign_id=campaign_id)
    ranges = scope(ReceiptRange.objects.all(), request.user, Capability.VIEW_DONATIONS)
    page = Paginator(
        visible.select_related("donation", "campaign").order_by("-issued_at", "-number"), 50
    ).get_page(request.GET.get("p"))
    return render(
        request,
        "donations/admin/receipts.html",
        _base(_("Receipts"), page=page, ranges=ranges.select_related("campaign"), form=form),
    )


def _managed_receipt(request: HttpRequest, pk: int, capability: Capability) -> Receipt:
    return get_object_or_404(
        scope(Receipt.objects.select_related("donation", "campaign"), request.user, capability),
        pk=pk,
    )


def receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = _managed_receipt(request, pk, Capability.VIEW_DONATIONS)
    response = HttpResponse(receipts.pdf_bytes(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="recu-{receipt.number}.pdf"'
    return response


@require_POST
def receipt_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    receipt = _managed_receipt(request, pk, Capability.MANAGE_DONATIONS)
    try:
        if action == "resend":
            receipts.resend(receipt, actor=request.user)
            messages.success(request, _("The receipt will be sent again."))
        elif action == "cancel":
            receipts.cancel(receipt, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Receipt cancelled; its number stays used."))
        elif action == "reissue":
            receipts.reissue(receipt, actor=request.user)
            messages.success(request, _("A new receipt was issued."))
        else:
            raise PermissionDenied
    except receipts.ReceiptError as error:
        messages.error(request, error.message)
    return redirect(_url("donations_admin_receipts"))


def account(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(
        campaigns_for(request.user, Capability.MANAGE_DONATIONS), pk=campaign_id
    )
    own = rules.settings_for(campaign)
    initial = {
        "stripe_publishable_key": own.stripe_publishable_key,
        "collection_opens_on": own.collection_opens_on,
        "collection_closes_on": own.collection_closes_on,
        "spending_ceiling": (own.spending_ceiling_cents or 0) / 100 or None,
        "goal": (own.goal_cents or 0) / 100 or None,
        "tax_reduction_percent": own.tax_reduction_percent,
    }
    form = AccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accounts.configure(
            campaign,
            actor=request.user,
            secret_key=data["stripe_secret_key"] or None,
            webhook_secret=data["stripe_webhook_secret"] or None,
            stripe_publishable_key=data["stripe_publishable_key"],
            collection_opens_on=data["collection_opens_on"],
            collection_closes_on=data["collection_closes_on"],
            spending_ceiling_cents=int(data["spending_ceiling"] * 100)
            if data["spending_ceiling"]
            else None,
            goal_cents=int(data["goal"] * 100) if data["goal"] else None,
            tax_reduction_percent=data["tax_reduction_percent"],
        )
        messages.success(request, _("Donation settings saved."))
        return redirect(_url("donations_admin_account", campaign.pk))
    webhook_url = request.build_absolute_uri(_url("donations:stripe_webhook", campaign.pk))
    return render(
        request,
        "donations/admin/account.html",
        _base(
            _("Donation settings: %(name)s") % {"name": campaign.name},
            form=form,
            campaign=campaign,
            has_account=own.has_account,
            problem=rules.collection_problem(campaign, online=True),
            webhook_url=webhook_url,
        ),
    )


def account_index(request: HttpRequest) -> HttpResponse:
    managed = campaigns_for(request.user, Capability.MANAGE_DONATIONS)
    if not managed.exists():
        raise PermissionDenied
    rows = [
        {"campaign": c, "problem": rules.collection_problem(c, online=True)}
        for c in managed.order_by("name")[:200]
    ]
    return render(
        request, "donations/admin/accounts.html", _base(_("Donation settings"), rows=rows)
    )
