"""Page cache for candidate sites: whole responses in the Django cache (Redis in production),
served before sessions, authentication or the database are touched.

Invalidation is per site: each site has a generation token; publishing, unpublishing, moving
or deleting a page, or saving the site's settings, replaces the token, so every cached page
of that site (home page "latest news", menus...) is rebuilt on its next request. Pages opt in
through `allow_page_cache()`; only anonymous GET/HEAD requests without a query string are
cached, for the exact hostname of a site.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from wagtail.views import serve as wagtail_serve

PAGE_CACHE_SECONDS = getattr(settings, "SITES_PAGE_CACHE_SECONDS", 600)
GENERATION_KEY = "sites:gen:{host}"
PAGE_KEY = "sites:page:{host}:{path}"
HEADER = "X-Cocarde-Cache"
_SKIPPED_HEADERS = {"set-cookie", "vary", HEADER.lower()}


def _host(request: HttpRequest) -> str | None:
    try:
        return request.get_host().lower()
    except Exception:  # noqa: BLE001  (DisallowedHost: let the normal chain answer 400)
        return None


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.path.startswith(
            ("/admin/", "/accounts/", "/documents/", "/static/", "/media/")
        )
    )


def _generation(host: str, current: Any) -> str:
    if current:
        return str(current)
    fresh = uuid.uuid4().hex
    cache.add(GENERATION_KEY.format(host=host), fresh, None)
    return str(cache.get(GENERATION_KEY.format(host=host)) or fresh)


def invalidate_site(site: Any) -> None:
    """Every cached page of the site is stale from now on."""
    if site is None:
        return
    hosts = {site.hostname, f"{site.hostname}:{site.port}"}
    for host in hosts:
        cache.set(GENERATION_KEY.format(host=host.lower()), uuid.uuid4().hex, None)


def allow_page_cache(request: HttpRequest, response: HttpResponse) -> None:
    """Called by a page's serve(): this response may be cached for everyone."""
    from wagtail.models import Site

    site = Site.find_for_request(request)
    host = _host(request)
    if site is None or host is None or host.split(":")[0] != site.hostname:
        return  # served by the fallback site: its invalidation would not reach this host
    request._sites_page_cacheable = True  # type: ignore[attr-defined]


class PageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = _host(request) if _cacheable_request(request) else None
        if host is None:
            return self.get_response(request)
        page_key = PAGE_KEY.format(host=host, path=request.path)
        gen_key = GENERATION_KEY.format(host=host)
        try:
            found = cache.get_many([page_key, gen_key])
        except Exception:  # noqa: BLE001  (cache down: serve uncached)
            return self.get_response(request)
        generation = _generation(host, found.get(gen_key))
        entry = found.get(page_key)
        if entry and entry["gen"] == generation:
            return _rebuild(entry, request)

        response = self.get_response(request)
        if getattr(request, "_sites_page_cacheable", False) and _cacheable_response(response):
            headers = [(k, v) for k, v in response.items() if k.lower() not in _SKIPPED_HEADERS]
            content = response.content
            try:
                cache.set(
                    page_key,
                    {
                        "gen": generation,
                        "status": response.status_code,
                        "headers": headers,
                        "content": content,
                    },
                    PAGE_CACHE_SECONDS,
                )
            except Exception:  # noqa: BLE001,S110  (a cache that refuses a write only costs speed)
                pass
            response[HEADER] = "miss"
        return response

    def process_view(self, request: HttpRequest, view_func: Any, *args: Any, **kwargs: Any) -> None:
        """Public page forms (petitions, signups...) carry no CSRF token, so their pages can
        be cached for everyone: a token in the HTML would be someone else's. They change no
        session and act for no signed-in user, so a forged submission gains nothing that a
        direct one would not; the honeypot and the rate limit handle abuse. Only Wagtail's
        page-serving view is exempt, never the admin, accounts or any other view."""
        if request.method == "POST" and view_func is wagtail_serve:
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]


def _cacheable_response(response: HttpResponse) -> bool:
    control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in control
        and "no-store" not in control
        and "no-cache" not in control
    )


def _rebuild(entry: dict[str, Any], request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        b"" if request.method == "HEAD" else entry["content"], status=entry["status"]
    )
    for key, value in entry["headers"]:
        response[key] = value
    response[HEADER] = "hit"
    return response
