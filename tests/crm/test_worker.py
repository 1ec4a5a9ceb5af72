"""The double opt-in email goes through a real Celery worker, after the commit."""

from __future__ import annotations

import pytest

from crm.models import ActionType
from crm.services.consent import ConsentChoice
from crm.services.web_actions import record_web_action
from tests.crm.conftest import PETITION_TEXT
from tests.fixtures.celery import wait_for


@pytest.mark.worker
def test_confirmation_email_is_sent_by_a_worker_after_commit(celery_worker, alpha):
    result = record_web_action(
        campaign=alpha,
        action_type=ActionType.SIGNED_UP,
        identity={"email": "ouvriere@example.org", "first_names": "Rosa"},
        consents=[ConsentChoice("email", "news", PETITION_TEXT)],
        source_url="https://alpha.example/inscription/",
        request=None,
        double_opt_in=True,
    )
    assert result.confirmation_sent
    # The worker found the committed consent and sent the message (the task returns True).
    wait_for(
        lambda: (
            "transactional_send_consent_confirmation" in celery_worker.log()
            and "succeeded" in celery_worker.log()
            and ": True" in celery_worker.log()
        ),
        timeout=60,
    )
    assert "Traceback" not in celery_worker.log()
