"""Page cache invalidation (the only thing signals are used for here)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from sites.cache import invalidate_site
from sites.models import SiteIdentity, SiteNavigation


def _invalidate_page(instance: Any, **kwargs: Any) -> None:
    site = instance.get_site() if instance.depth > 1 else None
    invalidate_site(site)


page_published.connect(_invalidate_page, dispatch_uid="sites.cache.published")
page_unpublished.connect(_invalidate_page, dispatch_uid="sites.cache.unpublished")


@receiver(post_page_move, dispatch_uid="sites.cache.moved")
def _page_moved(sender: Any, instance: Page, **kwargs: Any) -> None:
    _invalidate_page(instance)


@receiver(post_delete, dispatch_uid="sites.cache.deleted")
def _page_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, Page) and instance.depth > 1:
        home = Page.objects.filter(path=instance.path[: 2 * Page.steplen]).first()
        for site in Site.objects.filter(root_page=home) if home else []:
            invalidate_site(site)


@receiver(post_save, sender=SiteIdentity, dispatch_uid="sites.cache.identity")
@receiver(post_save, sender=SiteNavigation, dispatch_uid="sites.cache.navigation")
def _settings_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    invalidate_site(instance.site)


@receiver(post_save, sender=Site, dispatch_uid="sites.cache.site")
def _site_saved(sender: Any, instance: Site, **kwargs: Any) -> None:
    invalidate_site(instance)
