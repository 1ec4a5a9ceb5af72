"""Campaign-finance rules: the L52-8 cap over every campaign of one election (also under
concurrency), the party yearly cap with membership fees, cash limits, the collection window."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
from django.db import connection

from cocarde.tenancy.models import Campaign
from donations.models import Donation, DonationAttempt
from donations.services import ledger
from donations.services.giving import start_gift
from donations.services.rules import GiftRefused, remaining_cents
from tests.donations.helpers import gift_request
from tests.fixtures.donations import donor

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = dt.date.today()


def offline(campaign, amount_cents, *, method="cheque", on=TODAY, kind="gift", **identity):
    return ledger.record_offline_gift(
        campaign=campaign,
        identity=donor(**identity),
        amount_cents=amount_cents,
        method=method,
        received_on=on,
        actor=None,
        kind=kind,
    )


def test_cap_is_summed_over_every_campaign_of_the_election(funded_campaign, election_2027):
    alpha = funded_campaign("Alpha", election=election_2027)
    bravo = funded_campaign("Bravo", election=election_2027)
    elsewhere = funded_campaign("Charlie", election=None)
    gift = offline(alpha, 300_000)
    assert remaining_cents(gift.person_id, bravo) == 160_000
    with pytest.raises(GiftRefused) as refused:
        start_gift(bravo, gift_request("c1" * 16, amount_cents=200_000))
    assert refused.value.code == "cap" and refused.value.remaining_cents == 160_000
    assert "1 600 €" in refused.value.message
    assert not DonationAttempt.objects.exists()  # a refused gift reserves nothing
    started = start_gift(bravo, gift_request("c2" * 16, amount_cents=160_000))
    assert started.remaining_after_cents == 0
    # The pending attempt holds its amount: nothing more until it fails or expires.
    with pytest.raises(GiftRefused):
        offline(alpha, 100)
    # Another election (or none) is another cap.
    assert offline(elsewhere, 460_000).amount_cents == 460_000


def test_two_simultaneous_gifts_cannot_together_pass_the_cap(
    funded_campaign, election_2027, postgres
):
    alpha = funded_campaign("Alpha", election=election_2027)
    bravo = funded_campaign("Bravo", election=election_2027)
    ledger.find_donor(donor(), campaign=alpha)  # the donor exists; both gifts match them

    def give(args):
        campaign, token = args
        try:
            start_gift(campaign, gift_request(token, amount_cents=300_000))
            return "ok"
        except GiftRefused as error:
            return error.code
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                give,
                [(alpha, "k1" * 16), (bravo, "k2" * 16), (alpha, "k3" * 16), (bravo, "k4" * 16)],
            )
        )
    assert sorted(results) == ["cap", "cap", "cap", "ok"]
    assert DonationAttempt.objects.count() == 1


def test_party_cap_is_yearly_and_counts_membership_fees(funded_campaign):
    party = Campaign.LegalFramework.FR_PARTY
    first = funded_campaign("Parti A", framework=party, election=None)
    second = funded_campaign("Parti B", framework=party, election=None)
    offline(first, 500_000, kind="membership_fee", method="transfer")
    offline(second, 250_000)
    with pytest.raises(GiftRefused) as refused:
        offline(second, 100)
    assert refused.value.code == "cap" and "7 500 €" in refused.value.message
    next_year = TODAY.replace(year=TODAY.year + 1, month=1, day=2)
    assert offline(first, 750_000, on=next_year, method="transfer").amount_cents == 750_000


def test_candidate_cap_ignores_membership_fees_but_not_gifts(funded_campaign):
    campaign = funded_campaign("Alpha")
    offline(campaign, 460_000)
    with pytest.raises(GiftRefused):
        offline(campaign, 100)


def test_cash_rules(funded_campaign):
    campaign = funded_campaign("Alpha", spending_ceiling_cents=2_000_000)
    with pytest.raises(GiftRefused) as refused:
        offline(campaign, 15_001, method="cash")
    assert refused.value.code == "cash_single" and "150 €" in refused.value.message
    for number in range(26):  # 26 donors x 150 € = 3,900 €, under 20 % of 20,000 €
        offline(campaign, 15_000, method="cash", email=f"donor{number}@example.org")
    with pytest.raises(GiftRefused) as refused:
        offline(campaign, 15_000, method="cash", email="late@example.org")
    assert refused.value.code == "cash_total"
    assert offline(campaign, 10_000, method="cash", email="late@example.org").amount_cents == 10_000


def test_natural_persons_only_and_collection_window(funded_campaign):
    campaign = funded_campaign(
        "Alpha", collection_opens_on=TODAY - dt.timedelta(days=30), collection_closes_on=TODAY
    )
    with pytest.raises(GiftRefused) as refused:
        offline(campaign, 5000, natural_person=False)
    assert refused.value.code == "natural_person"
    with pytest.raises(GiftRefused) as refused:
        offline(campaign, 5000, on=TODAY + dt.timedelta(days=1))
    assert refused.value.code == "closed"
    with pytest.raises(GiftRefused):
        offline(campaign, 5000, on=TODAY - dt.timedelta(days=31))
    assert offline(campaign, 5000).person.pk
    assert Donation.objects.count() == 1


def test_other_frameworks_use_their_own_limit_or_none(funded_campaign):
    other = Campaign.LegalFramework.OTHER
    free = funded_campaign("Free", framework=other, election=None)
    assert (
        offline(free, 2_000_000, natural_person=False, french_or_resident=False).receipts.count()
        == 0
    )
    capped = funded_campaign(
        "Capped", framework=other, election=None, custom_cap_cents=100_000, custom_cap_period="year"
    )
    offline(capped, 100_000)
    with pytest.raises(GiftRefused):
        offline(capped, 100)
