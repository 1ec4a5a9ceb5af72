"""Root of the test suite. Fixtures live in modules under tests/fixtures/, registered here."""

import pytest

pytest_plugins = [
    "tests.fixtures.components",
    "tests.fixtures.people",
    "tests.fixtures.celery",
    "tests.fixtures.browser",
    "tests.fixtures.forms",
    "tests.fixtures.sites",
    "tests.fixtures.canvassing",
    "tests.fixtures.messaging",
    "tests.fixtures.donations",
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached lookups must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (French), whatever a previous test activated."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Celery marks "inside an eager task" with one process-wide flag that two eager tasks
    overlapping in different threads (webhooks reaching the live server at once) can leave
    set; a later test's `result.get()` would then refuse to wait. Each test starts clean."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """The SQLite test database is a file under var/ (cocarde/settings/test.py): make its folder."""
    from pathlib import Path

    from django.conf import settings

    for database in settings.DATABASES.values():
        name = database.get("TEST", {}).get("NAME")
        if database["ENGINE"] == "django.db.backends.sqlite3" and name:
            Path(name).parent.mkdir(parents=True, exist_ok=True)
