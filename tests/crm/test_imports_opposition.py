"""A person erased on request is not brought back by the next import of the roll."""

from __future__ import annotations

import pytest

from crm.models import ElectoralRegistration, Person, Suppression
from crm.services.gdpr import erase_person
from tests.crm.imports_helpers import ROLLS, import_file

pytestmark = pytest.mark.django_db


def test_reimporting_the_roll_refuses_the_rows_of_an_erased_person(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    first = import_file(ROLLS[0], campaign=alpha)
    assert first.errors == 0
    people = Person.objects.count()
    erased = Person.objects.exclude(roll_key="").order_by("pk").first()
    name = (erased.first_names, erased.birth_name, erased.birth_year)

    erase_person(erased, actor=None)

    assert Suppression.objects.filter(kind="roll", campaign__isnull=True).exists()
    again = import_file(ROLLS[0], campaign=alpha)
    assert (again.created, again.errors) == (0, 1)
    refused = again.row_errors.get()
    assert "erased" in refused.reason or "effac" in refused.reason
    assert Person.objects.count() == people - 1
    assert not Person.objects.filter(
        first_names=name[0], birth_name=name[1], birth_year=name[2]
    ).exists()
    # Everyone else is still matched, not duplicated, and keeps their registration.
    assert ElectoralRegistration.objects.filter(campaign=alpha).count() == people - 1
