"""In a real browser: campaign staff build a segment in the admin, watch the live count follow
each criterion, save it, and find it with its people; no script is blocked (CSP)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cocarde.tenancy.models import StaffRole
from crm.models import Segment
from crm.services import people as people_services
from crm.services.people import create_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user) -> None:
    """Reuse a server-side session (the sign-in flow with TOTP has its own browser test)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_staff_build_a_segment_watch_the_count_and_save_it(
    page, live_server, make_campaign, make_staff
):
    alpha = make_campaign("Alpha 2027", slug="alpha")
    bravo = make_campaign("Bravo 2027", slug="bravo")
    people = [
        ("Anne", "F", "41018", ["Bénévole"]),
        ("Bruno", "M", "41018", ["Bénévole"]),
        ("Chloé", "F", "41269", []),
        ("Denis", "M", "41269", []),
        ("Emma", "F", "41018", []),
    ]
    for first, sex, commune, tags in people:
        person = create_person(
            actor=None, campaign=alpha, first_names=first, birth_name="Test", sex=sex,
            commune_code=commune, commune_name="Blois" if commune == "41018" else "Vendôme",
        )  # fmt: skip
        people_services.add_tags(person, tags, campaign=alpha, actor=None)
    create_person(actor=None, campaign=bravo, first_names="Fanny", birth_name="Autre", sex="F")
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))

    sign_in(page, live_server, make_staff(alpha, StaffRole.Role.MANAGER))
    page.goto(f"{live_server.url}/admin/crm/segments/")
    page.get_by_role("link", name="Nouveau segment").click()
    count = page.locator("[data-segment-count]")
    # Everyone in Alpha, never Bravo's people.
    page.wait_for_selector('[data-segment-count][data-count="5"]')
    assert count.inner_text() == "5 personnes"
    assert "Fanny" not in page.locator("[data-segment-sample]").inner_text()

    builder = page.locator("[data-segment-builder]")
    builder.get_by_role("button", name="+ Critère").click()
    leaf = builder.locator(".seg-leaf").nth(0)
    leaf.locator("select.seg-criterion").select_option("tags")
    leaf.locator("[data-param=tags] select").select_option(label="Bénévole")
    page.wait_for_selector('[data-segment-count][data-count="2"]')
    assert count.inner_text() == "2 personnes"
    sample = page.locator("[data-segment-sample]").inner_text()
    assert "Anne Test" in sample and "Bruno Test" in sample and "Chloé" not in sample

    # OR a group: women of Vendôme; then exclude men from the whole.
    builder.locator(".seg-group--root > .seg-group__header select.seg-op").select_option("or")
    builder.get_by_role("button", name="+ Groupe").first.click()
    inner = builder.locator(".seg-group--root > .seg-children > .seg-group")
    inner.get_by_role("button", name="+ Critère").click()
    commune = inner.locator(".seg-leaf").nth(0)
    commune.locator("select.seg-criterion").select_option("commune")
    commune.locator("[data-param=codes] input").fill("41269")
    page.wait_for_selector('[data-segment-count][data-count="4"]')
    assert count.inner_text() == "4 personnes"

    # A mistake is shown next to its criterion, and the count waits for a valid tree.
    commune.locator("[data-param=codes] input").fill("412")
    page.wait_for_selector(".seg-has-error")
    assert "412" in commune.locator(".seg-leaf__error").inner_text()
    commune.locator("[data-param=codes] input").fill("41269")
    page.wait_for_selector('[data-segment-count][data-count="4"]')
    assert page.locator(".seg-has-error").count() == 0

    inner.get_by_role("button", name="+ Critère").click()
    sex = inner.locator(".seg-leaf").nth(1)
    sex.locator("select.seg-criterion").select_option("sex")
    sex.locator("[data-param=sex] select").select_option("M")
    sex.locator(".seg-negate").check()  # Vendôme, except men
    page.wait_for_selector('[data-segment-count][data-count="3"]')
    assert count.inner_text() == "3 personnes"  # Anne, Bruno (Bénévole) + Chloé

    page.fill("input[name=name]", "Bénévoles ou Vendômoises")
    page.get_by_role("button", name="Enregistrer le segment").click()
    page.wait_for_url(re.compile(r"/admin/crm/segments/\d+/$"))
    segment = Segment.objects.get(name="Bénévoles ou Vendômoises")
    assert segment.campaign == alpha and segment.created_by is not None
    assert "3 personnes" in page.locator("[data-segment-total]").inner_text()
    assert segment.criteria["op"] == "or"
    negated = segment.criteria["children"][1]["children"][1]
    assert negated == {"op": "not", "children": [{"criterion": "sex", "params": {"sex": "M"}}]}
    assert "Chloé Test" in page.content()

    # Editing brings the same tree back into the builder, with the same count.
    page.get_by_role("link", name="Modifier les critères").click()
    page.wait_for_selector('[data-segment-count][data-count="3"]')
    assert page.locator(".seg-leaf").count() == 3
    assert page.locator(".seg-negate:checked").count() == 1
    assert not errors, errors
