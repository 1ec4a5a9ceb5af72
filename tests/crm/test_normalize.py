"""The normalisation the forms, the staff screens and the importers share."""

from __future__ import annotations

import pytest

from crm.normalize import (
    NormalisationError,
    PartialDate,
    address_key,
    format_phone,
    name_key,
    normalise_email,
    normalise_phone,
    parse_birth_date,
    roll_key,
)


def test_emails_are_lowercased_and_checked():
    assert normalise_email("  Jean.Dupont@Example.ORG ") == "jean.dupont@example.org"
    assert normalise_email("") == ""
    with pytest.raises(NormalisationError, match="not-an-email"):
        normalise_email("not-an-email")


@pytest.mark.parametrize(
    ("raw", "e164", "kind"),
    [
        ("07 18 89 33 60", "+33718893360", "mobile"),
        ("0033 773363023", "+33773363023", "mobile"),
        ("+33798635434", "+33798635434", "mobile"),
        ("06.12.34.56.78", "+33612345678", "mobile"),
        ("02 54 32 10 00", "+33254321000", "landline"),
        ("+32 470 12 34 56", "+32470123456", "mobile"),
    ],
)
def test_phones_become_e164_from_french_formats(raw, e164, kind):
    phone = normalise_phone(raw)
    assert phone is not None and (phone.e164, phone.kind) == (e164, kind)


def test_bad_phones_are_refused_and_french_ones_print_nationally():
    with pytest.raises(NormalisationError, match="12"):
        normalise_phone("12")
    assert normalise_phone("  ") is None
    assert format_phone("+33612345678") == "06 12 34 56 78"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07/04/1953", PartialDate(1953, 4, 7)),
        ("00/00/1953", PartialDate(1953)),
        ("00/04/1953", PartialDate(1953, 4)),
        ("1961", PartialDate(1961)),
        ("1953-04-07", PartialDate(1953, 4, 7)),
        ("", None),
    ],
)
def test_birth_dates_may_be_partial(raw, expected):
    assert parse_birth_date(raw) == expected


@pytest.mark.parametrize("raw", ["31/02/1990", "07/13/1953", "hier", "07/04/53"])
def test_impossible_dates_are_refused_naming_the_value(raw):
    with pytest.raises(NormalisationError, match=raw.replace("/", "/")):
        parse_birth_date(raw)


def test_names_fold_accents_case_and_punctuation():
    assert name_key("Aït-Ali ") == name_key("AIT ALI") == "AIT ALI"
    assert name_key("Marie-Hélène d'Œillet") == "MARIE HELENE D OEILLET"


def test_roll_key_needs_a_full_birth_date():
    full = parse_birth_date("19/09/2005")
    assert roll_key("AÏT-ALI", "Ahmed Pierre", full) == "AIT ALI|AHMED PIERRE|2005-09-19"
    assert roll_key("AÏT-ALI", "Ahmed Pierre", parse_birth_date("00/00/1943")) == ""
    assert roll_key("", "Ahmed", full) == ""


def test_household_key_includes_the_complement():
    a = address_key("1", "bis", "Rue Pasteur", "Bât. B", "41400")
    b = address_key("1", "BIS", "rue pasteur", "bat b", "41400")
    c = address_key("1", "bis", "Rue Pasteur", "Bât. C", "41400")
    assert a == b != c
    assert address_key("", "", "", "", "41400") == ""


def test_members_sample_phones_match_the_truth():
    """Every phone of the sample members file normalises to the E.164 the truth file expects."""
    import csv
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    candidates = [root.parent / "shared" / "samples", Path("/work/shared/samples")]
    shared = next((c for c in candidates if (c / "adherents.csv").exists()), candidates[-1])
    if not (shared / "adherents.csv").exists():
        pytest.skip("shared samples not present")
    truth = json.loads((shared / "truth.json").read_text())["members_phone_e164"]
    with (shared / "adherents.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            email = normalise_email(row["Email"])
            if email in truth:
                phone = normalise_phone(row["Téléphone"])
                assert phone is not None and phone.e164 == truth[email], row["Téléphone"]
