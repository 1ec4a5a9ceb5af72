"""Content-Security-Policy: strict on public pages, relaxed only where Wagtail's admin needs it.

Candidate sites, donation, petition and canvassing pages run no inline script: their scripts
come from our origin (and Stripe's on donation pages), so a `<script>` smuggled into a page body
or a supporter's name runs nowhere. Wagtail's admin still ships inline scripts and `on…`
attributes, so under ADMIN_PREFIXES, and there only, the policy also allows 'unsafe-inline'.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

ADMIN_PREFIXES = ("/admin/",)
ADMIN_ALLOWANCE = {"script-src": ["'unsafe-inline'"]}


class SplitCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(ADMIN_PREFIXES):
            update = dict(parts.update or {})
            for directive, sources in ADMIN_ALLOWANCE.items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts
