"""Two requests tagging with the same new tag at once: one tag, both people tagged."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from crm.models import PersonTag, Tag
from crm.services.people import add_tags

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tag_created_concurrently_is_shared_not_an_error(postgres, make_person, alpha):
    first, second = make_person(campaign=alpha), make_person(campaign=alpha)
    created = threading.Event()
    errors: list[BaseException] = []

    def tag_and_hold() -> None:
        try:
            with transaction.atomic():
                add_tags(first, ["Porte-à-porte"], campaign=alpha, actor=None)
                created.set()
                time.sleep(0.5)  # the other request now waits on our uncommitted tag row
        except BaseException as error:  # noqa: BLE001  (reported to the test's thread)
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=tag_and_hold)
    holder.start()
    assert created.wait(10)
    # Not found by its read (uncommitted), then blocked on the unique index until the
    # holder commits: the insert fails, and the tag must be read again, not the call fail.
    add_tags(second, ["Porte-à-porte"], campaign=alpha, actor=None)
    holder.join()
    assert not errors
    tag = Tag.objects.get(campaign=alpha)
    assert set(PersonTag.objects.filter(tag=tag).values_list("person_id", flat=True)) == {
        first.pk,
        second.pk,
    }
