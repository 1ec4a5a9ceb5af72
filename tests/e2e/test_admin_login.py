"""A staff member signs into the admin in a real browser: password, then the TOTP code."""

from __future__ import annotations

import re

import pytest

from cocarde.tenancy.models import StaffRole
from tests.fixtures.people import PASSWORD, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_signs_in_with_two_factor_and_sees_their_campaigns(
    page, live_server, make_campaign, make_staff
):
    campaign = make_campaign("Alpha 2027", slug="alpha")
    make_campaign("Bravo 2027", slug="bravo")
    user = make_staff(campaign, StaffRole.Role.MANAGER)
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))

    page.goto(f"{live_server.url}/admin/")
    assert "/accounts/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Connexion").click()

    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_code(user.totp_secret))
    page.press("input[name=code]", "Enter")

    page.wait_for_url(re.compile(r"/admin/$"))
    panel = page.locator("#campaigns-panel-title")
    assert panel.inner_text() == "Vos campagnes"
    campaigns = page.locator("[data-campaign]")
    assert campaigns.count() == 1
    assert "Alpha 2027" in campaigns.first.inner_text()
    assert not errors, errors  # no script blocked by the content security policy
