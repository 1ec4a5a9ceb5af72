"""Reçus-dons (Code électoral L52-10): numbers from the ranges the CNCCFP issued, taken in order
under a lock, never reused, never skipped; a PDF per receipt; cancel and re-send with a trace."""

from __future__ import annotations

import io
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from donations.models import Donation, Receipt, ReceiptRange
from donations.services import rules


class ReceiptError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def add_range(campaign: Campaign, first: int, last: int, *, actor: Any) -> ReceiptRange:
    """Enter a block of numbers; it may not overlap another block of the campaign."""
    if first <= 0 or last < first:
        raise ReceiptError(_("The last number must be at least the first number."))
    with transaction.atomic():
        rules.lock_campaign(rules.LOCK_RECEIPTS, campaign.pk)
        overlap = ReceiptRange.objects.filter(
            campaign=campaign, first_number__lte=last, last_number__gte=first
        ).exists()
        if overlap:
            raise ReceiptError(_("These numbers overlap a range already entered."))
        block = ReceiptRange.objects.create(
            campaign=campaign,
            first_number=first,
            last_number=last,
            next_number=first,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record_event(
            "donations.receipt_range",
            actor=actor,
            campaign=campaign,
            target=block,
            data={"first": first, "last": last},
        )
        issue_pending(campaign)
    return block


def eligible(donation: Donation) -> bool:
    return (
        rules.rules_for(donation.campaign).receipts and donation.status != Donation.Status.REFUNDED
    )


def _take_number(campaign: Campaign) -> tuple[ReceiptRange, int] | None:
    block = (
        ReceiptRange.objects.select_for_update()
        .filter(campaign=campaign, next_number__lte=F("last_number"))
        .order_by("first_number")
        .first()
    )
    if block is None:
        return None
    number = block.next_number
    block.next_number = number + 1
    block.save(update_fields=["next_number"])
    return block, number


def issue_if_eligible(donation: Donation) -> Receipt | None:
    """Give the gift the next number, if it needs one and a range has numbers left. Gifts left
    waiting get theirs when the treasurer enters a range (issue_pending)."""
    if not eligible(donation):
        return None
    with transaction.atomic():
        rules.lock_campaign(rules.LOCK_RECEIPTS, donation.campaign_id)
        if Receipt.objects.filter(donation=donation, status=Receipt.Status.ISSUED).exists():
            return None
        taken = _take_number(donation.campaign)
        if taken is None:
            return None
        block, number = taken
        receipt = Receipt.objects.create(
            campaign_id=donation.campaign_id, donation=donation, receipt_range=block, number=number
        )
    return receipt


def issue_pending(campaign: Campaign) -> int:
    """Number every eligible gift still waiting for a receipt, oldest first."""
    count = 0
    waiting = (
        Donation.objects.filter(campaign=campaign)
        .exclude(status=Donation.Status.REFUNDED)
        .exclude(receipts__isnull=False)
        .order_by("received_at", "pk")
    )
    for donation in waiting:
        receipt = issue_if_eligible(donation)
        if receipt is None:
            break
        count += 1
        _enqueue_send(receipt.pk)
    return count


def _enqueue_send(receipt_id: int) -> None:
    from donations.tasks import transactional_send_receipt

    transaction.on_commit(lambda: transactional_send_receipt.delay(receipt_id))


def cancel(receipt: Receipt, *, actor: Any, reason: str) -> Receipt:
    """Cancel a receipt: its number stays used (the CNCCFP expects the cancelled stub)."""
    if not reason.strip():
        raise ReceiptError(_("Give the reason for cancelling."))
    with transaction.atomic():
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        if locked.status == Receipt.Status.CANCELLED:
            return locked
        locked.status = Receipt.Status.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.cancel_reason = reason.strip()[:300]
        locked.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        record_event(
            "donations.receipt_cancel",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            data={"number": locked.number, "reason": locked.cancel_reason},
        )
    return locked


def cancel_for_refund(donation: Donation, *, actor: Any) -> None:
    for receipt in Receipt.objects.filter(donation=donation, status=Receipt.Status.ISSUED):
        cancel(receipt, actor=actor, reason=_("Gift refunded"))


def reissue(receipt: Receipt, *, actor: Any) -> Receipt | None:
    """A new receipt (next number) for a gift whose receipt was cancelled by mistake."""
    if receipt.status != Receipt.Status.CANCELLED:
        raise ReceiptError(_("Only a cancelled receipt can be replaced."))
    new = issue_if_eligible(receipt.donation)
    if new is not None:
        record_event(
            "donations.receipt_reissue",
            actor=actor,
            campaign=receipt.campaign,
            target=new,
            data={"replaces": receipt.number, "number": new.number},
        )
        _enqueue_send(new.pk)
    return new


def resend(receipt: Receipt, *, actor: Any) -> None:
    if receipt.status != Receipt.Status.ISSUED:
        raise ReceiptError(_("A cancelled receipt cannot be sent."))
    record_event(
        "donations.receipt_resend",
        actor=actor,
        campaign=receipt.campaign,
        target=receipt,
        data={"number": receipt.number},
    )
    _enqueue_send(receipt.pk)


def pdf_bytes(receipt: Receipt) -> bytes:
    """The receipt as a PDF (fpdf2, pure Python)."""
    from fpdf import FPDF

    donation = receipt.donation
    campaign = receipt.campaign
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(
        0,
        10,
        _("Donation receipt no. %(number)s") % {"number": receipt.number},
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("helvetica", size=11)
    lines = [
        _("Campaign: %(name)s") % {"name": campaign.name},
        _("Financial agent: %(agent)s") % {"agent": campaign.financial_agent_name or "-"},
        campaign.financial_agent_address.replace("\n", ", "),
        "",
        _("Donor: %(civility)s %(name)s")
        % {"civility": donation.civility, "name": donation.donor_name},
        _("Tax address: %(street)s, %(postcode)s %(city)s")
        % {"street": donation.street, "postcode": donation.postcode, "city": donation.city},
        _("Amount: %(amount)s") % {"amount": rules.euros(donation.amount_cents)},
        _("Method: %(method)s") % {"method": donation.get_method_display()},
        _("Date: %(date)s")
        % {"date": timezone.localtime(donation.received_at).strftime("%d/%m/%Y")},
        "",
        _(
            "Issued under article L52-10 of the Code électoral; entitles to the tax reduction of "
            "article 200 of the Code général des impôts."
        ),
    ]
    if receipt.status == Receipt.Status.CANCELLED:
        lines.insert(0, _("CANCELLED: %(reason)s") % {"reason": receipt.cancel_reason})
    for line in lines:
        pdf.multi_cell(
            0, 7, line.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT"
        )
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


def numbers_report(campaign: Campaign) -> dict[str, Any]:
    """Numbers used vs issued: a gap would be a bug."""
    used = list(
        Receipt.objects.filter(campaign=campaign)
        .order_by("number")
        .values_list("number", flat=True)
    )
    expected: list[int] = []
    for block in ReceiptRange.objects.filter(campaign=campaign).order_by("first_number"):
        expected.extend(range(block.first_number, block.next_number))
    return {"used": used, "expected": expected, "gaps": sorted(set(expected) - set(used))}
