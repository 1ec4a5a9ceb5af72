"""In a real browser: campaign staff compose an email blast to a segment in the admin, send a
test, send it, and find every message in the outbox; no script is blocked (CSP)."""

from __future__ import annotations

import re

import pytest

from cocarde.tenancy.models import StaffRole
from messaging.models import Blast, OutboxMessage, SenderIdentity
from tests.e2e.test_segment_builder import sign_in
from tests.fixtures.messaging import make_audience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_compose_test_and_send_a_blast_then_see_it_in_the_outbox(
    page, live_server, make_campaign, make_staff
):
    alpha = make_campaign("Alpha 2027", slug="alpha")
    segment = make_audience(alpha, 3, name="Abonnés du centre")
    SenderIdentity.objects.create(
        campaign=alpha, from_name="Équipe Alpha", from_email="equipe@alpha2027.fr"
    )
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    sign_in(page, live_server, make_staff(alpha, StaffRole.Role.MANAGER))

    page.goto(f"{live_server.url}/admin/messaging/")
    page.get_by_role("link", name="Nouvel envoi").click()
    page.fill("input[name=name]", "Invitation réunion publique")
    page.select_option("select[name=segment]", str(segment.pk))
    page.select_option("select[name=sender]", label="Équipe Alpha <equipe@alpha2027.fr>")
    page.fill("input[name=subject]", "{{ first_name | Bonjour }}, on vous attend jeudi")
    page.select_option("select[name=block_0_type]", "text")
    page.fill("textarea[name=block_0_text]", "Réunion publique jeudi à 19 h à {{ commune }}.")
    page.select_option("select[name=block_1_type]", "button")
    page.fill("input[name=block_1_url]", "https://alpha2027.fr/reunion")
    page.fill("input[name=block_1_label]", "Je viens")
    # The SMS composer counts characters and segments as one types.
    page.fill("textarea[name=sms_text]", "€" * 81)
    page.wait_for_selector("[data-sms-count][data-segments='2']")
    page.fill("textarea[name=sms_text]", "")
    page.locator("[data-save-blast]").click()

    page.wait_for_url(re.compile(r"/admin/messaging/\d+/$"))  # the only campaign was preselected
    blast = Blast.objects.get(name="Invitation réunion publique")
    frame = page.frame_locator("[data-preview]")
    assert "Réunion publique jeudi" in frame.locator("body").inner_text()

    page.fill("[data-test-send] input[name=to]", "moi@alpha2027.fr")
    page.locator("[data-test-send] button").click()
    page.wait_for_selector("text=Test envoyé.")
    page.locator("[data-send-now] button").click()
    page.wait_for_selector("[data-blast-status='sent']")
    assert page.locator("[data-stat='sent']").text_content() == "3"

    page.goto(f"{live_server.url}/admin/messaging/outbox/")
    rows = page.locator("[data-outbox-message]")
    assert rows.count() == 4  # three recipients and the test
    assert "Prénom" in page.locator("[data-outbox]").inner_text()
    first = OutboxMessage.objects.filter(delivery__blast=blast).order_by("pk").first()
    page.locator(f"[data-outbox-message='{first.pk}'] a").click()
    text = page.locator("[data-outbox-text]").inner_text()
    assert "Réunion publique jeudi à 19 h à Villeneuve." in text and "/m/u/" in text
    assert not errors, errors
