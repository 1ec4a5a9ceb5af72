"""Settings for the test suite: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set."""

import os

from cocarde.settings.base import *  # noqa: F403
from cocarde.settings.base import DATABASES, REDIS_URL
from cocarde.settings.env import BASE_DIR

DEBUG = False
SECRET_KEY = "test-secret-key-with-enough-length-and-entropy-0123456789abcdef"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media")

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, like the embedded mode's database, not Django's default in-memory one: threads
    # (the live server, concurrent-request tests) then open their own connections with WAL and
    # the busy timeout, instead of sharing the test's connection (interleaved savepoints) or
    # SQLite's shared cache (table locks that ignore the timeout). pytest-xdist workers add a
    # suffix (test.sqlite3_gw0); --reuse-db keeps it between runs, as on PostgreSQL.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}

# Each pytest-xdist worker gets its own Redis database (the URL's database number plus the
# worker's index), so workers never read each other's queues, results or cache entries. Give
# concurrent test runs on one machine URLs whose numbers are a few apart.
if REDIS_URL:
    _worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    _server, _, _db = REDIS_URL.rpartition("/")
    if not _db.isdigit():  # no database number in the URL
        _server, _db = REDIS_URL.rstrip("/"), "0"
    REDIS_URL = f"{_server}/{(int(_db) + _worker) % 16}"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cocarde-test",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Tests run tasks in-process unless they start a real worker (tests/fixtures/celery.py).
    CELERY_TASK_ALWAYS_EAGER = True
