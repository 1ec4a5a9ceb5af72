"""The Celery app. With REDIS_URL set, tasks go through Redis to workers; otherwise they run
eagerly in the calling process (the embedded mode of `make run`)."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task

from cocarde import use_settings_for_environment

use_settings_for_environment()


class CocardeTask(Task):
    """Base task: retries back off and stop, and never outlive the broker's visibility timeout.

    A retry scheduled later than the visibility timeout would be handed to a second worker
    before it fires, and run twice (codecov/umbrella#720), so countdowns are capped.
    """

    max_retries = 8
    retry_backoff = True
    retry_backoff_max = 15 * 60
    retry_jitter = True

    def retry(self, *args: Any, countdown: float | None = None, **kwargs: Any) -> Any:
        from django.conf import settings

        ceiling = settings.CELERY_VISIBILITY_TIMEOUT * 0.8
        if countdown is not None:
            countdown = min(countdown, ceiling)
        return super().retry(*args, countdown=countdown, **kwargs)


app = Celery("cocarde", task_cls=CocardeTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
