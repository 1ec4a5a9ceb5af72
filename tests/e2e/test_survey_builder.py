"""In a real browser: campaign staff build a door campaign's survey with question cards (no
JSON), with a branch, reorder and delete questions, save, and find the same survey on reopening;
the hidden textarea carries the JSON that validate_survey accepts; no script is blocked (CSP)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from canvassing.models import DoorCampaign
from canvassing.services import validate_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED = [
    {"key": "irez_vous_voter", "label": "Irez-vous voter ?", "type": "yes_no"},
    {"key": "satisfaction", "label": "Êtes-vous satisfait du maire ?", "type": "scale"},
    {"key": "votre_priorite", "label": "Votre priorité ?", "type": "choice",
     "choices": ["Écoles", "Transports", "Sécurité"],
     "show_if": {"question": "irez_vous_voter", "equals": True}},
]  # fmt: skip


def sign_in(page, live_server, user) -> None:
    """Reuse a server-side session (the sign-in flow with TOTP has its own browser test)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def save(page, dc) -> None:
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_url(re.compile(rf"/admin/canvassing/{dc.pk}/$"))


def test_staff_build_reorder_and_delete_survey_questions_without_json(
    page, live_server, make_field, settings
):
    settings.TERRITORY_MAP_TILE_URL = ""  # no network in tests (the campaign page has a map)
    field = make_field()
    dc = field.door_campaign
    DoorCampaign.objects.filter(pk=dc.pk).update(survey=[])
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    sign_in(page, live_server, field.manager)

    page.goto(f"{live_server.url}/admin/canvassing/{dc.pk}/")
    page.get_by_role("link", name="Modifier la campagne et son questionnaire").click()
    builder = page.locator("[data-survey-builder]")
    builder.wait_for()
    assert page.locator("textarea[name=survey]").is_hidden()
    cards = builder.locator("fieldset.survey-card")
    add = builder.get_by_role("button", name="Ajouter une question")

    # 1. A yes/no question (the first type), its key follows the label.
    add.click()
    first = page.get_by_role("group", name="Question 1", exact=True)
    label = first.get_by_label("Question posée")
    assert label.evaluate("node => node === document.activeElement")
    label.fill("Irez-vous voter ?")
    assert first.locator("[data-role=type]").input_value() == "yes_no"
    first.get_by_text("Avancé").click()
    assert first.get_by_label("Clé").input_value() == "irez_vous_voter"

    # 2. A choice with three answers, shown only if the first is yes.
    add.click()
    second = cards.nth(1)
    second.locator("[data-role=label]").fill("Votre priorité ?")
    second.locator("[data-role=type]").select_option("choice")
    second.get_by_label("Réponses possibles (une par ligne)").fill("Écoles\nTransports\nSécurité")
    parent = second.locator("[data-role=parent]")
    parent.select_option(label="1. Irez-vous voter ?")
    equals = second.locator("[data-role=equals]")
    assert equals.locator("option").all_inner_texts() == ["choisir une réponse", "Oui", "Non"]
    assert second.locator("[data-role=warnings]").inner_text().startswith("Choisissez")
    equals.select_option(label="Oui")
    assert second.locator("[data-role=warnings]").is_hidden()

    # 3. A scale, with a key of our own; 4. a question added by mistake, then deleted.
    add.click()
    third = cards.nth(2)
    third.locator("[data-role=label]").fill("Êtes-vous satisfait du maire ?")
    third.locator("[data-role=type]").select_option("scale")
    third.get_by_text("Avancé").click()
    third.locator("[data-role=key]").fill("satisfaction")
    add.click()
    cards.nth(3).locator("[data-role=label]").fill("À supprimer")
    cards.nth(3).get_by_role("button", name="Supprimer").click()
    assert cards.count() == 3
    # The scale goes up, before the choice, with the keyboard; the branch still holds.
    third.get_by_role("button", name="Monter").focus()
    page.keyboard.press("Enter")
    assert cards.nth(1).locator("[data-role=label]").input_value().startswith("Êtes-vous")
    assert page.evaluate("document.activeElement.textContent") == "Monter"
    expect(page.locator("[data-role=status]")).to_have_text("Question déplacée en position 2.")
    assert builder.locator("[data-role=warnings]:visible").count() == 0

    save(page, dc)
    dc.refresh_from_db()
    assert dc.survey == EXPECTED
    assert validate_survey(dc.survey) == EXPECTED

    # Reopening shows the same questions, branch included.
    page.goto(f"{live_server.url}/admin/canvassing/{dc.pk}/edit/")
    builder.wait_for()
    assert [cards.nth(i).locator("[data-role=label]").input_value() for i in range(3)] == [
        question["label"] for question in EXPECTED
    ]
    assert [cards.nth(i).locator("[data-role=type]").input_value() for i in range(3)] == [
        "yes_no", "scale", "choice"
    ]  # fmt: skip
    branch = cards.nth(2)
    assert branch.locator("[data-role=choices]").input_value() == "Écoles\nTransports\nSécurité"
    assert branch.locator("[data-role=parent] option:checked").inner_text() == (
        "1. Irez-vous voter ?"
    )
    assert branch.locator("[data-role=equals] option:checked").inner_text() == "Oui"

    # A saved key stays when the label changes; the choice goes up; the scale is deleted.
    cards.nth(0).locator("[data-role=label]").fill("Irez-vous voter en mars ?")
    branch.get_by_role("button", name="Monter").click()
    cards.nth(2).get_by_role("button", name="Supprimer").click()
    assert cards.count() == 2
    save(page, dc)
    dc.refresh_from_db()
    assert dc.survey == [
        {**EXPECTED[0], "label": "Irez-vous voter en mars ?"},
        EXPECTED[2],
    ]
    assert not errors, errors


def test_deleting_a_question_frees_the_questions_that_depended_on_it(page, live_server, make_field):
    field = make_field()  # its survey: priority, will_vote, why_not shown if will_vote is no
    dc = field.door_campaign
    sign_in(page, live_server, field.manager)
    page.goto(f"{live_server.url}/admin/canvassing/{dc.pk}/edit/")
    cards = page.locator("[data-survey-builder] fieldset.survey-card")
    cards.first.wait_for()
    assert cards.nth(2).locator("[data-role=equals] option:checked").inner_text() == "Non"
    # Moving the branch above its question is flagged, not silently dropped.
    cards.nth(2).get_by_role("button", name="Monter").click()
    assert "n’est plus avant elle" in cards.nth(1).locator("[data-role=warnings]").inner_text()
    cards.nth(1).get_by_role("button", name="Descendre").click()
    cards.nth(1).get_by_role("button", name="Supprimer").click()
    assert cards.nth(1).locator("[data-role=parent]").input_value() == ""
    save(page, dc)
    dc.refresh_from_db()
    assert [question["key"] for question in dc.survey] == ["priority", "why_not"]
    assert "show_if" not in dc.survey[1]
