"""Create a site for a campaign from a home page (a national template site, typically)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from wagtail.models import Collection, Page, Site

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from sites.models import CampaignSite, SiteIdentity, SiteNavigation
from sites.permissions import grant_site_editing


@transaction.atomic
def create_site(
    *,
    actor: Any,
    campaign: Campaign,
    home: Page,
    hostname: str,
    port: int = 80,
    is_template: bool = False,
    is_default_site: bool = False,
    identity: dict[str, Any] | None = None,
) -> CampaignSite:
    """A Wagtail site on `home`, owned by `campaign`, with its editors group, media collection
    and settings prefilled from the campaign's legal details."""
    if is_default_site:  # Wagtail expects one default site; two make host matching fail
        Site.objects.filter(is_default_site=True).update(is_default_site=False)
    site = Site.objects.create(
        hostname=hostname,
        port=port,
        site_name=campaign.name,
        root_page=home,
        is_default_site=is_default_site,
    )
    collection = Collection.get_first_root_node().add_child(name=f"{campaign.name} ({hostname})")
    group = Group.objects.create(name=f"Site editors · {hostname}:{port}")
    grant_site_editing(group, home, collection, None)
    values = {
        "candidate_name": campaign.name,
        "contact_email": campaign.contact_email,
        "contact_phone": campaign.contact_phone,
        "publisher_name": campaign.legal_entity_name,
        "publisher_address": campaign.legal_address,
        "publication_director": campaign.publication_director,
        "financial_agent_name": campaign.financial_agent_name,
        "financial_agent_address": campaign.financial_agent_address,
        "host_details": campaign.host_details,
        "privacy_contact": campaign.contact_email,
        **(identity or {}),
    }
    SiteIdentity.objects.create(site=site, **values)
    SiteNavigation.objects.get_or_create(site=site)
    link = CampaignSite.objects.create(
        site=site,
        campaign=campaign,
        is_template=is_template,
        editors_group=group,
        collection=collection,
    )
    record_event(
        "site.create",
        actor=actor,
        campaign=campaign,
        target=site,
        data={"hostname": hostname, "template": is_template},
    )
    return link


def ensure_wagtail_roots() -> None:
    """The rows Wagtail's migrations create (default locale, root page, root collection).

    A migrated database always has them; a test database flushed by a transactional test
    does not, so the demo and the test fixtures call this first.
    """
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Locale

    Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    if not Page.objects.filter(depth=1).exists():
        Page.add_root(
            instance=Page(
                title="Root", slug="root", content_type=ContentType.objects.get_for_model(Page)
            )
        )
    if not Collection.objects.filter(depth=1).exists():
        Collection.add_root(name="Root")
