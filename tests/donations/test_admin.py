"""The treasurer's screens: scoped to the campaigns the role covers (another campaign's gift or
receipt is a 404), offline gifts under the same rules, refunds, exports, totals, receipts,
the payment account with its keys encrypted."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from cocarde.audit.models import AuditEvent
from cocarde.tenancy.models import StaffRole
from donations.models import Donation, DonationSettings, Receipt
from donations.services import ledger, receipts
from tests.fixtures.donations import donor

pytestmark = pytest.mark.django_db
Role = StaffRole.Role


@pytest.fixture
def world(funded_campaign, make_staff, login):
    alpha, bravo = funded_campaign("Alpha"), funded_campaign("Bravo")
    for campaign in (alpha, bravo):
        receipts.add_range(campaign, 1, 100, actor=None)
    gifts = {
        campaign.slug: ledger.record_offline_gift(
            campaign=campaign,
            identity=donor(email=f"{campaign.slug}@donor.example.org", last_name=campaign.name),
            amount_cents=12_000,
            method="cheque",
            received_on=dt.date.today(),
            actor=None,
        )
        for campaign in (alpha, bravo)
    }
    treasurer = login(make_staff(alpha, Role.TREASURER))
    staff = login(make_staff(alpha, Role.STAFF))
    return alpha, bravo, gifts, treasurer, staff


def test_lists_and_exports_show_only_the_campaigns_of_the_role(world):
    alpha, bravo, gifts, treasurer, _staff = world
    html = treasurer.get("/admin/donations/").content.decode()
    assert f'data-donation="{gifts[alpha.slug].pk}"' in html
    assert f'data-donation="{gifts[bravo.slug].pk}"' not in html
    assert 'data-method="cheque"' in html and 'data-total="12000"' in html

    rows = list(
        csv.reader(
            io.StringIO(treasurer.get("/admin/donations/export.csv").content.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert len(rows) == 2
    assert rows[1][3] == "Alpha" and rows[1][9] == "120.00" and rows[1][14] == "1"
    assert rows[1][1] == str(gifts[alpha.slug].person.uuid)
    book = load_workbook(io.BytesIO(treasurer.get("/admin/donations/export.xlsx").content))
    assert [c.value for c in list(book.active.rows)[1]][3] == "Alpha"
    assert AuditEvent.objects.filter(action="donations.export").count() == 2

    other_receipt = gifts[bravo.slug].receipts.get()
    assert treasurer.get(f"/admin/donations/receipts/{other_receipt.pk}/pdf/").status_code == 404
    assert treasurer.post(f"/admin/donations/{gifts[bravo.slug].pk}/refund/").status_code == 404
    own_receipt = gifts[alpha.slug].receipts.get()
    pdf = treasurer.get(f"/admin/donations/receipts/{own_receipt.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert treasurer.get(f"/admin/donations/settings/{bravo.pk}/").status_code == 404


def test_staff_see_but_cannot_manage(world):
    alpha, _bravo, gifts, _treasurer, staff = world
    assert staff.get("/admin/donations/").status_code == 200
    refused = staff.get("/admin/donations/offline/")  # Wagtail turns PermissionDenied into this
    assert refused.status_code == 302 and refused.url == "/admin/"
    assert staff.post(f"/admin/donations/{gifts[alpha.slug].pk}/refund/").status_code == 404
    assert staff.get(f"/admin/donations/settings/{alpha.pk}/").status_code == 404


def test_treasurer_records_offline_gifts_under_the_rules_and_refunds(world):
    alpha, _bravo, _gifts, treasurer, _staff = world
    form = {
        "campaign": alpha.pk,
        "kind": "gift",
        "method": "cash",
        "amount": "200",
        "received_on": dt.date.today().isoformat(),
        "first_name": "Paul",
        "last_name": "Liquide",
        "street": "1 rue Haute",
        "postcode": "41000",
        "city": "Blois",
        "natural_person": "on",
        "french_or_resident": "on",
    }
    refused = treasurer.post("/admin/donations/offline/", form)
    assert refused.status_code == 200 and "150 €" in refused.content.decode()
    assert treasurer.post("/admin/donations/offline/", {**form, "amount": "100"}).status_code == 302
    gift = Donation.objects.get(last_name="Liquide")
    assert gift.method == "cash" and gift.recorded_by is not None
    assert gift.receipts.get().number == 2

    treasurer.post(f"/admin/donations/{gift.pk}/refund/", {"amount": "40"})
    gift.refresh_from_db()
    assert gift.refunded_cents == 4000 and gift.status == Donation.Status.SUCCEEDED
    treasurer.post(f"/admin/donations/{gift.pk}/refund/")
    gift.refresh_from_db()
    assert gift.status == Donation.Status.REFUNDED
    assert gift.receipts.get().status == Receipt.Status.CANCELLED


def test_receipt_screens_and_account_keys(world):
    alpha, _bravo, gifts, treasurer, _staff = world
    receipt = gifts[alpha.slug].receipts.get()
    assert (
        treasurer.post(
            "/admin/donations/receipts/",
            {"campaign": alpha.pk, "first_number": 50, "last_number": 60},
        ).status_code
        == 200
    )  # overlaps
    assert (
        treasurer.post(
            "/admin/donations/receipts/",
            {"campaign": alpha.pk, "first_number": 200, "last_number": 300},
        ).status_code
        == 302
    )
    treasurer.post(f"/admin/donations/receipts/{receipt.pk}/cancel/", {"reason": "Erreur de nom"})
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.CANCELLED
    treasurer.post(f"/admin/donations/receipts/{receipt.pk}/reissue/")
    assert gifts[alpha.slug].receipts.filter(status="issued").get().number == 2
    assert 'data-receipt="1"' in treasurer.get("/admin/donations/receipts/").content.decode()

    response = treasurer.post(
        f"/admin/donations/settings/{alpha.pk}/",
        {
            "stripe_publishable_key": "pk_test_new",
            "stripe_secret_key": "sk_test_brand_new_secret",
            "stripe_webhook_secret": "",
            "tax_reduction_percent": 66,
            "goal": "5000",
        },
    )
    assert response.status_code == 302
    row = DonationSettings.objects.get(campaign=alpha)
    assert "sk_test_brand_new_secret" not in row.stripe_secret_key_encrypted
    from donations.services.secrets import decrypt

    assert decrypt(row.stripe_secret_key_encrypted) == "sk_test_brand_new_secret"
    assert row.goal_cents == 500_000 and row.has_account  # webhook secret kept
    assert AuditEvent.objects.filter(action="donations.settings", actor__isnull=False).exists()
