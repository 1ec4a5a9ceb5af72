"""Read queries shared by pages, blocks, services and the admin."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from wagtail.models import Page, Site

from cocarde.tenancy.models import Campaign


def campaign_for_site(site: Site | None) -> Campaign | None:
    from sites.models import CampaignSite

    if site is None:
        return None
    link = CampaignSite.objects.select_related("campaign").filter(site=site).first()
    return link.campaign if link else None


def site_for_campaign(campaign: Campaign) -> Site | None:
    """The campaign's site (for the national team, its first template site)."""
    return (
        Site.objects.filter(campaign_link__campaign=campaign)
        .order_by("-campaign_link__is_template", "pk")
        .first()
    )


def campaign_for_page(page: Page) -> Campaign | None:
    from sites.models import CampaignSite

    home_path = page.path[: 2 * Page.steplen]
    link = (
        CampaignSite.objects.select_related("campaign")
        .filter(site__root_page__path=home_path)
        .first()
    )
    return link.campaign if link else None


def template_sites() -> QuerySet[Any]:
    from sites.models import CampaignSite

    return CampaignSite.objects.filter(is_template=True).select_related("site", "campaign")


def _site_path(page: Page) -> str:
    """The tree path of the page's home, without a query: sites' homes sit at depth 2."""
    return page.path[: 2 * Page.steplen]


def latest_articles(page: Page, count: int) -> list[Any]:
    from sites.models import ArticlePage

    articles = ArticlePage.objects.live().filter(path__startswith=_site_path(page))
    return list(articles.order_by("-date", "-pk").select_related("image")[:count])


def upcoming_events(page: Page, count: int) -> list[Any]:
    from sites.models import EventPage

    events = EventPage.objects.live().filter(path__startswith=_site_path(page))
    return list(events.filter(start__gte=timezone.now()).order_by("start")[:count])


def submission_count(page: Page) -> int:
    from sites.models import FormCounter

    return FormCounter.objects.filter(page_id=page.pk).values_list("count", flat=True).first() or 0


def site_of_page(page: Page, request: Any = None) -> Site | None:
    """The site a page belongs to: the request's own site when the page is under it (no
    query), else looked up (admin previews are served on the admin's host name)."""
    if request is not None:
        cached = getattr(request, "_sites_page_site", None)
        if cached is not None and page.path.startswith(cached.root_page.path):
            return cached
        site = Site.find_for_request(request)
        if site is None or not page.path.startswith(site.root_page.path):
            site = page.get_site()
        request._sites_page_site = site
        return site
    return page.get_site()


def identity_of_page(page: Page, request: Any = None) -> Any:
    """The site identity (theme, colours, language, legal details) for a page, cached on
    the request."""
    from sites.models import SiteIdentity

    site = site_of_page(page, request)
    cache_attr = f"_sites_identity_{site.pk if site else 0}"
    if request is not None and hasattr(request, cache_attr):
        return getattr(request, cache_attr)
    identity = SiteIdentity.for_site(site) if site else SiteIdentity()
    if request is not None:
        setattr(request, cache_attr, identity)
    return identity
