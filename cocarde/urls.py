from django.conf import settings
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cocarde import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("favicon.ico", health.favicon),
    # Staff sign in through allauth only (rate limits, two-factor): Wagtail's own login and
    # password views are closed, not merely unlinked.
    re_path(
        r"^admin/(?:login|password_reset)/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
    ),
    path("admin/", include(wagtailadmin_urls)),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("documents/", include(wagtaildocs_urls)),
    # Supporters' own page, one-click unsubscribe, double opt-in confirmation.
    path("crm/", include("crm.urls")),
    # The canvassers' mobile web app (door-to-door and phone banking).
    path("terrain/", include("canvassing.urls")),
    # Messaging: one-click unsubscribe and provider webhooks.
    path("m/", include("messaging.urls")),
    # Donation form endpoints, Stripe webhooks, the donor's monthly-gift link.
    path("donations/", include("donations.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail serves every candidate site's pages; keep it last.
urlpatterns.append(path("", include(wagtail_urls)))
