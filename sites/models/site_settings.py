"""Per-site settings (Wagtail site settings): identity, theme, legal details, navigation.

Campaign staff edit their own site's settings; the permission policy below derives that from
campaign roles (`cocarde.tenancy.permissions`), so no group is ever synced by hand.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField

from sites import blocks
from themes.colours import contrast_problem


def _theme_choices() -> list[tuple[str, str]]:
    from themes.registry import theme_choices

    return theme_choices()


class SocialLinks(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X (Twitter)"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    LINKEDIN = "linkedin", "LinkedIn"


@register_setting(icon="user")
class SiteIdentity(BaseSiteSetting):
    # Branding
    theme = models.CharField(
        _("theme"), max_length=40, default="republique", choices=_theme_choices
    )
    primary_colour = models.CharField(_("primary colour"), max_length=7, default="#1d3a6e")
    secondary_colour = models.CharField(_("secondary colour"), max_length=7, default="#c8102e")
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_(
            "The language of the site's buttons and labels, whatever the visitor's browser."
        ),
    )
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The candidate
    candidate_name = models.CharField(_("candidate name"), max_length=120, blank=True)
    candidate_photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("candidate photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    party_name = models.CharField(_("party name"), max_length=120, blank=True)
    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    # Contact
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    # Social links
    facebook_url = models.URLField("Facebook", blank=True)
    instagram_url = models.URLField("Instagram", blank=True)
    x_url = models.URLField("X (Twitter)", blank=True)
    bluesky_url = models.URLField("Bluesky", blank=True)
    mastodon_url = models.URLField("Mastodon", blank=True)
    tiktok_url = models.URLField("TikTok", blank=True)
    youtube_url = models.URLField("YouTube", blank=True)
    linkedin_url = models.URLField("LinkedIn", blank=True)
    # Legal details (mentions légales), prefilled from the campaign when the site is created
    publisher_name = models.CharField(_("publisher (legal name)"), max_length=200, blank=True)
    publisher_address = models.TextField(_("publisher address"), blank=True)
    publication_director = models.CharField(_("publication director"), max_length=200, blank=True)
    financial_agent_name = models.CharField(_("financial agent"), max_length=200, blank=True)
    financial_agent_address = models.TextField(_("financial agent address"), blank=True)
    host_details = models.TextField(_("hosting provider"), blank=True)
    data_controller = models.CharField(
        _("data controller"),
        max_length=200,
        blank=True,
        help_text=_("Who decides what is done with supporters' data. Defaults to the publisher."),
    )
    privacy_contact = models.EmailField(
        _("privacy contact"),
        blank=True,
        help_text=_("Where people send access or erasure requests."),
    )

    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("theme"),
                    FieldPanel("language"),
                    FieldPanel("primary_colour"),
                    FieldPanel("secondary_colour"),
                    FieldPanel("logo"),
                ],
                heading=_("Appearance"),
            ),
            ObjectList(
                [
                    FieldPanel("candidate_name"),
                    FieldPanel("candidate_photo"),
                    FieldPanel("party_name"),
                    FieldPanel("tagline"),
                    FieldPanel("contact_email"),
                    FieldPanel("contact_phone"),
                    FieldPanel("postal_address"),
                ],
                heading=_("Candidate"),
            ),
            ObjectList(
                [
                    FieldPanel(f"{name}_url")
                    for name in (
                        "facebook",
                        "instagram",
                        "x",
                        "bluesky",
                        "mastodon",
                        "tiktok",
                        "youtube",
                        "linkedin",
                    )
                ],
                heading=_("Social networks"),
            ),  # fmt: skip
            ObjectList(
                [
                    MultiFieldPanel(
                        [
                            FieldPanel("publisher_name"),
                            FieldPanel("publisher_address"),
                            FieldPanel("publication_director"),
                            FieldPanel("host_details"),
                        ],
                        heading=_("Publisher"),
                    ),
                    MultiFieldPanel(
                        [FieldPanel("financial_agent_name"), FieldPanel("financial_agent_address")],
                        heading=_("Campaign finance"),
                    ),
                    MultiFieldPanel(
                        [FieldPanel("data_controller"), FieldPanel("privacy_contact")],
                        heading=_("Personal data"),
                    ),
                ],
                heading=_("Legal details"),
            ),
        ]
    )

    class Meta:
        verbose_name = _("site identity")
        verbose_name_plural = _("site identities")

    def __str__(self) -> str:
        return self.candidate_name or str(self.site)

    def clean(self) -> None:
        from themes.registry import get_theme

        errors: dict[str, Any] = {}
        if get_theme(self.theme) is None:
            errors["theme"] = _("Unknown theme.")
        for name in ("primary_colour", "secondary_colour"):
            problem = contrast_problem(getattr(self, name))
            if problem:
                errors[name] = problem
        if errors:
            raise ValidationError(errors)

    @classmethod
    def get_permission_policy(cls) -> Any:
        from sites.permissions import CampaignSiteSettingPolicy

        return CampaignSiteSettingPolicy(cls)

    def social_links(self) -> list[tuple[str, str, str]]:
        """(key, label, url) of every social network the site links to, in a fixed order."""
        return [
            (key, label, getattr(self, f"{key}_url"))
            for key, label in SocialLinks.choices
            if getattr(self, f"{key}_url")
        ]

    def controller(self) -> str:
        return self.data_controller or self.publisher_name


@register_setting(icon="list-ul")
class SiteNavigation(BaseSiteSetting):
    main_menu = StreamField(blocks.menu_blocks(), verbose_name=_("main menu"), blank=True)
    header_button_label = models.CharField(
        _("header button label"), max_length=40, blank=True, help_text=_("e.g. Faire un don")
    )
    header_button_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("header button target"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    footer_menu = StreamField(blocks.menu_blocks(), verbose_name=_("footer links"), blank=True)
    footer_text = RichTextField(_("footer text"), blank=True, features=["bold", "italic", "link"])

    panels = [
        FieldPanel("main_menu"),
        MultiFieldPanel(
            [FieldPanel("header_button_label"), FieldPanel("header_button_page")],
            heading=_("Header button"),
        ),
        FieldPanel("footer_menu"),
        FieldPanel("footer_text"),
    ]

    class Meta:
        verbose_name = _("navigation")
        verbose_name_plural = _("navigation")

    def __str__(self) -> str:
        return str(self.site)

    @classmethod
    def get_permission_policy(cls) -> Any:
        from sites.permissions import CampaignSiteSettingPolicy

        return CampaignSiteSettingPolicy(cls)
