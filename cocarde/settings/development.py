"""The embedded mode behind `make run`: SQLite, tasks in-process, mail printed to the console."""

from cocarde.settings.base import *  # noqa: F403
from cocarde.settings.env import env_bool, env_list, env_str

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY") or "development-only-secret-key-never-use-in-production"
# Candidate sites of the demo answer on *.localhost (browsers resolve them to 127.0.0.1).
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", ".localhost", "127.0.0.1", "[::1]"])
# Asking every developer to enrol an authenticator app before seeing the demo is friction;
# production never relaxes this (see production.py).
COCARDE_STAFF_MFA_REQUIRED = env_bool("COCARDE_STAFF_MFA_REQUIRED", False)
ACCOUNT_EMAIL_VERIFICATION = "optional"
