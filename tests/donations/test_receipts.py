"""Receipts (reçus-dons): the next number of the CNCCFP ranges, never reused, never skipped, also
under concurrency; PDF, email, re-send and cancel with a trace."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
from django.core import mail
from django.db import connection

from cocarde.audit.models import AuditEvent
from donations.models import Receipt, ReceiptRange
from donations.services import ledger, receipts
from tests.fixtures.donations import donor

pytestmark = pytest.mark.django_db(transaction=True)


def gift(campaign, number: int, amount: int = 5000):
    return ledger.record_offline_gift(
        campaign=campaign,
        identity=donor(email=f"donor{number}@example.org", last_name=f"Donateur{number}"),
        amount_cents=amount,
        method="cheque",
        received_on=dt.date.today(),
        actor=None,
    )


def test_numbers_follow_the_ranges_without_gaps_under_concurrency(funded_campaign, postgres):
    campaign = funded_campaign("Alpha")
    receipts.add_range(campaign, 1, 5, actor=None)
    receipts.add_range(campaign, 100, 130, actor=None)

    def give(number):
        try:
            return gift(campaign, number).pk
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(give, range(20)))
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, *range(100, 115)]
    assert receipts.numbers_report(campaign)["gaps"] == []
    assert len(mail.outbox) == 20 and all(m.attachments for m in mail.outbox)


def test_gifts_wait_for_a_range_then_get_numbers_in_order(funded_campaign):
    campaign = funded_campaign("Alpha")
    first, second = gift(campaign, 1), gift(campaign, 2)
    assert not Receipt.objects.exists()
    assert "suivra" in mail.outbox[0].body  # "your receipt will follow"
    receipts.add_range(campaign, 10, 10, actor=None)
    assert first.receipts.get().number == 10 and not second.receipts.exists()
    receipts.add_range(campaign, 11, 20, actor=None)
    assert second.receipts.get().number == 11
    with pytest.raises(receipts.ReceiptError):
        receipts.add_range(campaign, 15, 25, actor=None)  # overlaps


def test_cancel_keeps_the_number_and_reissue_takes_the_next(funded_campaign, make_staff):
    campaign = funded_campaign("Alpha")
    treasurer = make_staff(campaign, "treasurer")
    receipts.add_range(campaign, 1, 10, actor=treasurer)
    donation = gift(campaign, 1)
    receipt = donation.receipts.get()
    with pytest.raises(receipts.ReceiptError):
        receipts.cancel(receipt, actor=treasurer, reason=" ")
    receipts.cancel(receipt, actor=treasurer, reason="Nom mal orthographié")
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.CANCELLED and receipt.number == 1
    new = receipts.reissue(receipt, actor=treasurer)
    assert new is not None and new.number == 2
    assert AuditEvent.objects.filter(action="donations.receipt_cancel", actor=treasurer).exists()
    assert AuditEvent.objects.filter(action="donations.receipt_reissue").exists()
    assert ReceiptRange.objects.get().next_number == 3
    pdf = receipts.pdf_bytes(receipt)
    assert pdf.startswith(b"%PDF")

    before = len(mail.outbox)
    receipts.resend(new, actor=treasurer)
    assert len(mail.outbox) == before + 1
    assert mail.outbox[-1].attachments[0][0] == "recu-2.pdf"
    new.refresh_from_db()
    assert new.send_count == 2  # sent when reissued, then re-sent
    assert AuditEvent.objects.filter(action="donations.receipt_resend").exists()
    with pytest.raises(receipts.ReceiptError):
        receipts.resend(receipt, actor=treasurer)  # cancelled
