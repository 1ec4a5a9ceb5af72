"""WSGI entry point, served by gunicorn in production (platform/gunicorn.conf.py)."""

from django.core.wsgi import get_wsgi_application

from cocarde import use_settings_for_environment

use_settings_for_environment()
application = get_wsgi_application()
