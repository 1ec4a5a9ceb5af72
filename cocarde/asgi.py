"""ASGI entry point (not used by the default stack; kept for servers that prefer it)."""

from django.core.asgi import get_asgi_application

from cocarde import use_settings_for_environment

use_settings_for_environment()
application = get_asgi_application()
