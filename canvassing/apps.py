from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanvassingConfig(AppConfig):
    name = "canvassing"
    verbose_name = _("Field campaigns")
