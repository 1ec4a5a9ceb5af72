"""Staff must have two-factor authentication before they reach any staff area."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from cocarde.tenancy.permissions import has_admin_access

# Every URL under these prefixes shows personal data or changes the platform.
STAFF_URL_PREFIXES = ("/admin/",)


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_enrol(request):
            messages.warning(
                request,
                _(
                    "Set up two-factor authentication to open the staff area: "
                    "it holds personal data."
                ),
            )
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request: HttpRequest) -> bool:
        user = request.user
        return (
            settings.COCARDE_STAFF_MFA_REQUIRED
            and request.path.startswith(STAFF_URL_PREFIXES)
            and user.is_authenticated
            and has_admin_access(user)
            and not is_mfa_enabled(user, types=["totp"])
        )
