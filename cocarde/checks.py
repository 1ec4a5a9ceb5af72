"""System checks for settings that Django cannot see are wrong."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility)
def check_celery_retries_fit_visibility_timeout(**kwargs: Any) -> list[Error]:
    """A retry scheduled beyond the broker's visibility timeout runs twice."""
    from cocarde.celery import CocardeTask

    if CocardeTask.retry_backoff_max >= settings.CELERY_VISIBILITY_TIMEOUT:
        return [
            Error(
                "CELERY_VISIBILITY_TIMEOUT must exceed the longest retry backoff "
                f"({CocardeTask.retry_backoff_max} s), or retried tasks would run twice.",
                id="cocarde.E001",
            )
        ]
    return []
