"""Another campaign's pages, media and site settings answer 404 in the admin, never 403: the admin
must not even confirm that they exist (tenancy rule, see docs/development.md)."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from wagtail.models import Page

from cocarde.tenancy.permissions import has_admin_access, is_national_admin

PAGE_URL = re.compile(r"^/admin/(?:pages|choose-page)/(\d+)/|^/admin/pages/add/\w+/\w+/(\d+)/")
MEDIA_URL = re.compile(r"^/admin/(images|documents)/(?:edit/)?(\d+)/")
SETTINGS_URL = re.compile(r"^/admin/settings/sites/(?:siteidentity|sitenavigation)/(\d+)/")


class AdminSiteScopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if (
            path.startswith("/admin/")
            and request.user.is_authenticated
            and has_admin_access(request.user)
        ):
            if not is_national_admin(request.user):
                self._check(request, path)
        return self.get_response(request)

    @staticmethod
    def _check(request: HttpRequest, path: str) -> None:
        from sites.permissions import can_edit_page, editable_site_ids

        if match := PAGE_URL.match(path):
            page_id = int(match.group(1) or match.group(2))
            page = Page.objects.filter(pk=page_id).only("path", "depth").first()
            if page is None or (page.depth > 1 and not can_edit_page(request.user, page)):
                raise Http404
        elif match := MEDIA_URL.match(path):
            from wagtail.documents import get_document_model
            from wagtail.images import get_image_model
            from wagtail.permissions import policy_registry

            model = get_image_model() if match.group(1) == "images" else get_document_model()
            item = model.objects.filter(pk=int(match.group(2))).first()
            policy = policy_registry.get_by_type(model)
            if item is None or not policy.user_has_any_permission_for_instance(
                request.user, ["change", "choose"], item
            ):
                raise Http404
        elif match := SETTINGS_URL.match(path):
            ids = editable_site_ids(request.user)
            if ids is not None and int(match.group(1)) not in ids:
                raise Http404
