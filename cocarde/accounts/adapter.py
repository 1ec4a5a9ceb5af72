"""How allauth treats our users: staff land in the admin, supporters on the site."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from cocarde.tenancy.permissions import has_admin_access


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if has_admin_access(request.user):
            return "/admin/"
        return super().get_login_redirect_url(request)
