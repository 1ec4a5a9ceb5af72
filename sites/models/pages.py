"""Page types of a candidate site. Bodies are StreamFields of the shared block library."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.blocks import CharBlock, IntegerBlock, StructBlock, TextBlock
from wagtail.coreutils import camelcase_to_underscore
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from sites import blocks

THANKS_PARAM = "merci"


class SitePage(Page):
    """What every page of a candidate site shares: theme-aware templates, sharing metadata,
    placeholder checks on template sites, and template sync after publishing."""

    social_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("sharing image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Shown when the page is shared (OpenGraph, X/Twitter). 1200×630 works best."),
    )

    promote_panels = [*Page.promote_panels, FieldPanel("social_image")]
    page_cache_allowed = True

    class Meta:
        abstract = True

    # --- rendering ---------------------------------------------------------------------------

    def get_template(self, request: HttpRequest, *args: Any, **kwargs: Any) -> list[str]:
        from themes.registry import page_template_names

        return page_template_names(
            _theme_name(request, self), camelcase_to_underscore(type(self).__name__)
        )

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from themes.registry import theme_context

        context = super().get_context(request, *args, **kwargs)
        context.update(theme_context(request, self))
        return context

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from sites.cache import allow_page_cache

        response = _show_template_samples(request, super().serve(request, *args, **kwargs), self)
        if self.page_cache_allowed and request.method in ("GET", "HEAD") and not request.GET:
            allow_page_cache(request, response)
        return response

    def sharing_image(self) -> Any:
        return (
            self.social_image or getattr(self, "hero_image", None) or getattr(self, "image", None)
        )

    # --- editing -----------------------------------------------------------------------------

    def clean(self) -> None:
        super().clean()
        from sites.placeholders import unknown_names
        from sites.services.cloning import text_values_of

        unknown = set()
        for value in text_values_of(self):
            unknown |= unknown_names(value)
        if unknown:
            raise ValidationError(
                _("Unknown placeholders: %(names)s. See the list of placeholders in the help."),
                params={"names": ", ".join(sorted(f"{{{{ {n} }}}}" for n in unknown))},
            )

    def publish(self, revision: Any, user: Any = None, **kwargs: Any) -> Any:
        result = super().publish(revision, user=user, **kwargs)
        from sites.services.sync import template_page_published

        template_page_published(self, revision, user=user)
        return result


def _show_template_samples(
    request: HttpRequest, response: HttpResponse, page: Page
) -> HttpResponse:
    """Render in the site's language; on a national template site, placeholders show as
    sample values."""
    from django.utils import translation

    from sites.models import CampaignSite
    from sites.placeholders import sample_html
    from sites.selectors import identity_of_page, site_of_page

    site = site_of_page(page, request)
    if site is None or not hasattr(response, "render"):
        return response
    language = identity_of_page(page, request).language
    with translation.override(language):
        response.render()
    response["Content-Language"] = language
    if CampaignSite.objects.filter(site=site, is_template=True).exists():
        response.content = sample_html(response.content.decode()).encode()
    return response


def _theme_name(request: HttpRequest, page: Page) -> str:
    from sites.selectors import identity_of_page

    return identity_of_page(page, request).theme


def body_field(verbose: Any = None, *, programme: bool = False) -> StreamField:
    return StreamField(
        blocks.programme_blocks() if programme else blocks.body_blocks(),
        verbose_name=verbose or _("body"),
        blank=True,
    )


# --- Pages ------------------------------------------------------------------------------------


class HomePage(SitePage):
    hero_title = models.CharField(
        _("slogan"), max_length=200, help_text=_("The big headline next to the candidate's photo.")
    )
    hero_text = models.TextField(_("introduction"), blank=True)
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("hero image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Defaults to the candidate's photo from the site settings."),
    )
    hero_cta_label = models.CharField(_("button label"), max_length=60, blank=True)
    hero_cta_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("button target"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = body_field()

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldPanel("hero_title"),
                FieldPanel("hero_text"),
                FieldPanel("hero_image"),
                FieldRowPanel([FieldPanel("hero_cta_label"), FieldPanel("hero_cta_page")]),
            ],
            heading=_("Hero"),
        ),
        FieldPanel("body"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("hero_title"),
        index.SearchField("body"),
    ]
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")


class ContentPage(SitePage):
    intro = models.TextField(_("introduction"), blank=True)
    body = body_field()

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]

    class Meta:
        verbose_name = _("content page")
        verbose_name_plural = _("content pages")


class NewsIndexPage(SitePage):
    intro = models.TextField(_("introduction"), blank=True)
    per_page = 12

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["sites.ArticlePage"]

    class Meta:
        verbose_name = _("news index")
        verbose_name_plural = _("news indexes")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from django.core.paginator import Paginator

        context = super().get_context(request, *args, **kwargs)
        articles = ArticlePage.objects.live().child_of(self).order_by("-date", "-pk")
        context["articles"] = Paginator(articles, self.per_page).get_page(request.GET.get("page"))
        return context


class ArticlePage(SitePage):
    date = models.DateField(_("date"), default=timezone.localdate)
    intro = models.TextField(_("summary"), blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = body_field()

    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("image"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["sites.NewsIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")


class ProgrammePage(SitePage):
    intro = models.TextField(_("introduction"), blank=True)
    body = body_field(_("themes and proposals"), programme=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")


class EventIndexPage(SitePage):
    intro = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["sites.EventPage"]

    class Meta:
        verbose_name = _("event index")
        verbose_name_plural = _("event indexes")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        events = EventPage.objects.live().child_of(self)
        now = timezone.now()
        context["upcoming"] = events.filter(start__gte=now).order_by("start")
        context["past"] = events.filter(start__lt=now).order_by("-start")[:12]
        return context


class LegalPage(SitePage):
    """Mentions légales or privacy policy: the legal details come from the site settings (which
    are prefilled from the campaign), so they stay right when the campaign changes them."""

    class Kind(models.TextChoices):
        LEGAL_NOTICE = "legal_notice", _("Legal notice (mentions légales)")
        PRIVACY = "privacy", _("Privacy policy")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    body = body_field(_("additional text"))

    content_panels = [*Page.content_panels, FieldPanel("kind"), FieldPanel("body")]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("legal page")
        verbose_name_plural = _("legal pages")


class DonationPage(SitePage):
    """Amounts and texts; the payment form itself belongs to the donations app."""

    intro = models.TextField(_("introduction"), blank=True)
    amounts = StreamField(
        [("amount", IntegerBlock(label=_("Amount (€)"), min_value=1, max_value=7500))],
        verbose_name=_("suggested amounts"),
        blank=True,
    )
    body = body_field()
    legal_text = models.TextField(
        _("legal text"),
        blank=True,
        default=_(
            "Donations are received by the financial agent named in the legal notice. A person "
            "may give at most 4,600 € per election (article L52-8 of the Code électoral); only "
            "natural persons of French nationality or resident in France may give. A donation "
            "entitles to a tax reduction of 66 % of its amount, within 20 % of taxable income."
        ),
    )
    thank_you_text = models.TextField(_("thank-you text"), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("amounts"),
        FieldPanel("body"),
        FieldPanel("legal_text"),
        FieldPanel("thank_you_text"),
    ]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("donation page")
        verbose_name_plural = _("donation pages")

    def amount_values(self) -> list[int]:
        return [block.value for block in self.amounts]


# --- Pages with a form ------------------------------------------------------------------------


class FieldMode(models.TextChoices):
    HIDDEN = "hidden", _("Not asked")
    OPTIONAL = "optional", _("Optional")
    REQUIRED = "required", _("Required")


class ActionFormPage(SitePage):
    """A page whose form people fill in: petition, signup, volunteering, RSVP, contact.

    The identity fields are fixed (first name, last name, email, phone, postcode); the consent
    text and extra questions are set per page. Every valid submission goes through
    `sites.services.forms.handle_form_submission`.
    """

    form_kind = "generic"

    intro = models.TextField(_("introduction"), blank=True)
    body = body_field()
    button_label = models.CharField(_("button label"), max_length=60, default=_("Send"))
    phone_field = models.CharField(
        _("phone number"), max_length=10, choices=FieldMode.choices, default=FieldMode.OPTIONAL
    )
    postcode_field = models.CharField(
        _("postcode"), max_length=10, choices=FieldMode.choices, default=FieldMode.REQUIRED
    )
    consent_text = models.TextField(
        _("consent text"),
        blank=True,
        default=_("I agree to receive news from the campaign. I can unsubscribe at any time."),
        help_text=_("Shown next to a checkbox. The exact text is stored with each answer."),
    )
    consent_required = models.BooleanField(
        _("consent required"),
        default=False,
        help_text=_("Refuse the form unless the box is ticked. Leave off for news consent."),
    )
    crm_tags = models.CharField(
        _("tags"),
        max_length=255,
        blank=True,
        help_text=_("Given in the CRM to everyone who sends this form; separate with commas."),
    )
    double_opt_in = models.BooleanField(
        _("double opt-in"),
        default=False,
        help_text=_("Ask people to confirm their consent from an email before it counts."),
    )
    thank_you_title = models.CharField(
        _("thank-you title"), max_length=200, default=_("Thank you!")
    )
    thank_you_text = models.TextField(_("thank-you text"), blank=True)
    next_action_label = models.CharField(_("next action label"), max_length=80, blank=True)
    next_action_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("next action"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Offered after the form is sent, e.g. the volunteer page after a petition."),
    )

    form_panels = [
        FieldPanel("button_label"),
        FieldRowPanel([FieldPanel("phone_field"), FieldPanel("postcode_field")]),
        FieldPanel("consent_text"),
        FieldPanel("consent_required"),
        FieldRowPanel([FieldPanel("crm_tags"), FieldPanel("double_opt_in")]),
        InlinePanel("form_questions", label=_("Extra questions")),
        MultiFieldPanel(
            [
                FieldPanel("thank_you_title"),
                FieldPanel("thank_you_text"),
                FieldRowPanel([FieldPanel("next_action_label"), FieldPanel("next_action_page")]),
            ],
            heading=_("After sending"),
        ),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    subpage_types: list[str] = []

    class Meta:
        abstract = True

    def get_form_class(self) -> type:
        from sites.forms import action_form_class

        return action_form_class(self)

    def crm_tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.crm_tags.split(",") if tag.strip()]

    def live_count(self) -> int:
        from sites.selectors import submission_count

        return submission_count(self)

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from crm.abuse import RateLimited, SubmissionRefused
        from sites.services.forms import handle_form_submission, receipt_from_token

        form_class = self.get_form_class()
        status = 200
        if request.method == "POST":
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    receipt = handle_form_submission(self, form.cleaned_data, request=request)
                except SubmissionRefused as refused:  # spam or rate limit: nothing stored
                    form.add_error(None, refused.message)
                    status = 429 if isinstance(refused, RateLimited) else 400
                except ValidationError as invalid:  # an email or phone the CRM refuses
                    _add_crm_errors(form, invalid)
                else:
                    return HttpResponseRedirect(
                        f"{self.get_url(request)}?{THANKS_PARAM}={quote_plus(receipt.token())}"
                    )
        else:
            thanks = request.GET.get(THANKS_PARAM)
            if thanks is not None:
                return self.serve_thanks(request, receipt_from_token(thanks))
            form = form_class()
        context = self.get_context(request, *args, **kwargs)
        context["form"] = form
        response = _show_template_samples(
            request,
            TemplateResponse(request, self.get_template(request), context, status=status),
            self,
        )
        if request.method == "GET" and not request.GET:
            from sites.cache import allow_page_cache

            allow_page_cache(request, response)
        return response

    def serve_thanks(self, request: HttpRequest, receipt: Any) -> HttpResponse:
        context = self.get_context(request)
        context["receipt"] = receipt
        context["thanks"] = True
        from themes.registry import page_template_names

        return _show_template_samples(
            request,
            TemplateResponse(
                request, page_template_names(_theme_name(request, self), "thanks"), context
            ),
            self,
        )


def _add_crm_errors(form: Any, error: ValidationError) -> None:
    """Show the CRM's refusal next to the field it names (email, phone), else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class FormQuestion(Orderable):
    """An extra question of a form page."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        CHOICE = "choice", _("One choice")
        MULTIPLE = "multiple", _("Several choices")
        CHECKBOX = "checkbox", _("Checkbox")
        NUMBER = "number", _("Number")

    page = ParentalKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="form_questions")
    label = models.CharField(_("question"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(_("choices"), blank=True, help_text=_("One choice per line."))
    help_text = models.CharField(_("help text"), max_length=255, blank=True)
    required = models.BooleanField(_("required"), default=False)

    panels = [
        FieldRowPanel([FieldPanel("label"), FieldPanel("kind"), FieldPanel("required")]),
        FieldPanel("choices"),
        FieldPanel("help_text"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("extra question")
        verbose_name_plural = _("extra questions")

    def __str__(self) -> str:
        return self.label

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.kind in (self.Kind.CHOICE, self.Kind.MULTIPLE) and len(self.choice_list()) < 2:
            raise ValidationError({"choices": _("Give at least two choices, one per line.")})


class PetitionPage(ActionFormPage):
    form_kind = "petition"

    addressee = models.CharField(
        _("addressed to"), max_length=200, blank=True, help_text=_("e.g. Au conseil départemental")
    )
    goal = models.PositiveIntegerField(_("signature goal"), default=1000)

    content_panels = [
        *Page.content_panels,
        FieldPanel("addressee"),
        FieldPanel("goal"),
        FieldPanel("intro"),
        FieldPanel("body"),
        *ActionFormPage.form_panels,
    ]

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")

    def progress_percent(self) -> int:
        if not self.goal:
            return 100
        return min(100, round(100 * self.live_count() / self.goal))


class SignupPage(ActionFormPage):
    form_kind = "signup"

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("body"),
        *ActionFormPage.form_panels,
    ]

    class Meta:
        verbose_name = _("signup page")
        verbose_name_plural = _("signup pages")


class VolunteerPage(ActionFormPage):
    form_kind = "volunteer"

    help_options = StreamField(
        [
            (
                "option",
                StructBlock(
                    [
                        ("label", CharBlock(label=_("Way to help"), max_length=100)),
                        ("description", TextBlock(label=_("Description"), required=False)),
                    ],
                    label=_("Way to help"),
                ),
            )
        ],
        verbose_name=_("ways to help"),
        blank=True,
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("help_options"),
        FieldPanel("body"),
        *ActionFormPage.form_panels,
    ]

    class Meta:
        verbose_name = _("volunteer page")
        verbose_name_plural = _("volunteer pages")

    def help_labels(self) -> list[str]:
        return [block.value["label"] for block in self.help_options]


class EventPage(ActionFormPage):
    form_kind = "rsvp"

    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"), null=True, blank=True)
    location_name = models.CharField(_("place"), max_length=200)
    address = models.CharField(_("address"), max_length=255, blank=True)
    map_url = models.URLField(
        _("map link"),
        blank=True,
        help_text=_("Defaults to an OpenStreetMap search of the address."),
    )
    rsvp_open = models.BooleanField(_("RSVP open"), default=True)

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("start"), FieldPanel("end")]),
        FieldPanel("location_name"),
        FieldPanel("address"),
        FieldPanel("map_url"),
        FieldPanel("intro"),
        FieldPanel("body"),
        FieldPanel("rsvp_open"),
        *ActionFormPage.form_panels,
    ]
    parent_page_types = ["sites.EventIndexPage"]

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def clean(self) -> None:
        super().clean()
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": _("The end comes before the start.")})

    def map_link(self) -> str:
        if self.map_url:
            return self.map_url
        where = ", ".join(part for part in (self.location_name, self.address) if part)
        return f"https://www.openstreetmap.org/search?query={quote_plus(where)}" if where else ""


class ContactPage(ActionFormPage):
    form_kind = "contact"

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("body"),
        *ActionFormPage.form_panels,
    ]

    class Meta:
        verbose_name = _("contact page")
        verbose_name_plural = _("contact pages")


ACTION_PAGE_MODELS = (PetitionPage, SignupPage, VolunteerPage, EventPage, ContactPage)


__all__ = [
    "ACTION_PAGE_MODELS",
    "ActionFormPage",
    "ArticlePage",
    "ContactPage",
    "ContentPage",
    "DonationPage",
    "EventIndexPage",
    "EventPage",
    "FieldMode",
    "FormQuestion",
    "HomePage",
    "LegalPage",
    "NewsIndexPage",
    "PetitionPage",
    "ProgrammePage",
    "SignupPage",
    "SitePage",
    "VolunteerPage",
]
