from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from messaging.models import Blast, OutboxMessage
from messaging.services.blasts import blast_stats

pytestmark = pytest.mark.django_db


def test_demo_has_one_sent_blast_with_statistics_and_is_idempotent():
    call_command("demo", stdout=StringIO())
    call_command("demo", stdout=StringIO())
    blast = Blast.objects.get()
    assert blast.status == Blast.Status.SENT
    stats = blast_stats(blast)
    assert stats["sent"] >= 10 and stats["sent"] == OutboxMessage.objects.count()
    assert stats["delivered"] == stats["sent"] - 1 and stats["bounced"] == 1
    assert stats["opened"] > stats["clicked"] > 0 and stats["unsubscribed"] == 2
