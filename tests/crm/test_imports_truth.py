"""Importing the sample rolls (current and 2013 layouts) and members files (UTF-8, Latin-1)
reproduces every fact of truth.json."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Count

from crm.models import (
    CampaignAttachment,
    DuplicateCandidate,
    ElectoralRegistration,
    EmailAddress,
    Person,
)
from crm.normalize import parse_birth_date, roll_key
from tests.crm.imports_helpers import LEGACY, MEMBERS, ROLLS, SAMPLES, TRUTH, import_file

pytestmark = pytest.mark.django_db


def test_samples_reproduce_truth(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    runs = {name: import_file(name, campaign=alpha) for name in ROLLS}
    for name, list_type in zip(ROLLS, ("LP", "LCM", "LCE"), strict=True):
        assert runs[name].rows == TRUTH["roll_rows"][list_type]
        assert runs[name].errors == 0
    # One person per voter; an EU citizen on both complementary lists is one person.
    assert Person.objects.count() == TRUTH["roll_unique_people"]
    both = (
        ElectoralRegistration.objects.filter(list_type__in=["LCM", "LCE"])
        .values("person")
        .annotate(n=Count("list_type", distinct=True))
        .filter(n=2)
        .count()
    )
    assert both == TRUTH["eu_on_both_lists"]
    # Homonyms (same name, first names and birth date, other birthplace) are kept apart.
    for last, first, date in TRUTH["homonym_pairs"]:
        birth = parse_birth_date(date)
        twins = Person.objects.filter(roll_key=roll_key(last, first, birth))
        assert twins.count() == 2, (last, first, date)
        assert len({p.birth_place_code for p in twins}) == 2
    assert (
        sorted(set(ElectoralRegistration.objects.values_list("polling_station_code", flat=True)))
        == TRUTH["bureaux"]
    )
    # Polling station code and name are kept per voter.
    assert not ElectoralRegistration.objects.filter(polling_station_label="").exists()
    assert Person.objects.exclude(polling_station_code="").count() == TRUTH["roll_unique_people"]

    # The 2013 layout names the same voters: nothing new, nothing changed.
    legacy = import_file(LEGACY, campaign=alpha)
    assert legacy.rows == TRUTH["legacy_rows"]
    assert (legacy.created, legacy.errors) == (0, 0)
    assert Person.objects.count() == TRUTH["roll_unique_people"]

    members = [import_file(name, campaign=alpha) for name in MEMBERS]
    assert all(run.rows == TRUTH["members_rows"] and run.errors == 0 for run in members)
    assert members[0].duplicates_in_file == TRUTH["members_rows"] - TRUTH["members_unique"]
    assert members[1].created == 0  # the Latin-1 copy finds everyone by email
    assert members[1].file_info["encoding"] == "cp1252"
    assert Person.objects.count() == TRUTH["people_after_roll_and_members"]
    assert Person.objects.filter(member_status="member").count() == TRUTH["members_unique"]
    on_roll = Person.objects.filter(member_status="member", registrations__isnull=False)
    assert on_roll.distinct().count() == TRUTH["members_on_roll"]
    for email, e164 in TRUTH["members_phone_e164"].items():
        person = EmailAddress.objects.get(email=email).person
        assert list(person.phones.values_list("e164", flat=True)) == [e164], email
    # Everyone is visible to the campaign; nothing was merged blindly.
    assert (
        CampaignAttachment.objects.filter(campaign=alpha).values("person").distinct().count()
        == TRUTH["people_after_roll_and_members"]
    )
    assert not DuplicateCandidate.objects.exists()
    # Names kept exactly as written.
    assert (
        Person.objects.filter(birth_name="N'DIAYE", first_names="Mamadou", birth_year=1948).count()
        == 2
    )
    assert Person.objects.filter(birth_name="AÏT-ALI", first_names="Ahmed Pierre").exists()


def test_reimport_changes_nothing_and_command_prints_one_json_line(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    out = io.StringIO()
    paths = [str(SAMPLES / n) for n in [*ROLLS, LEGACY, *MEMBERS]]
    call_command(
        "import_people", *paths, "--campaign", alpha.slug, stdout=out, stderr=io.StringIO()
    )
    line = out.getvalue().strip().splitlines()[-1]
    totals = json.loads(line)
    assert set(totals) == {
        "rows",
        "created",
        "updated",
        "duplicates_in_file",
        "to_review",
        "errors",
        "report",
    }
    assert totals["created"] == TRUTH["people_after_roll_and_members"]
    assert (
        totals["rows"]
        == sum(TRUTH["roll_rows"].values()) + TRUTH["legacy_rows"] + 2 * (TRUTH["members_rows"])
    )
    out = io.StringIO()
    call_command("import_people", *paths[:3], "--dry-run", stdout=out, stderr=io.StringIO())
    again = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (again["created"], again["updated"]) == (0, 0)
    out = io.StringIO()
    call_command("import_people", *paths[:3], stdout=out, stderr=io.StringIO())
    again = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (again["created"], again["updated"]) == (0, 0)
    assert Person.objects.count() == TRUTH["people_after_roll_and_members"]


def test_dry_run_counts_and_previews_without_writing(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    run = import_file("adherents.csv", campaign=alpha, dry_run=True)
    assert run.status == run.Status.CHECKED
    assert (run.rows, run.created, run.duplicates_in_file) == (262, 260, 2)
    assert Person.objects.count() == 0
    first = run.preview[0]
    assert first["first_names"] == "Sylvie Léa" and first["email"] == "sylvie.fontaine0@courriel.fr"
    assert first["outcome"] == "created" and first["member_status"] == "member"
