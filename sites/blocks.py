"""The shared block library: every page body is a StreamField of these blocks.

Each block renders through `sites/templates/sites/blocks/<name>.html` with semantic, themeable
markup (themes style the `.block-*` classes). Dynamic blocks (latest news, upcoming events)
read the current site's pages at render time.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageBlock

RICH_TEXT_FEATURES = ["h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link", "hr"]
INLINE_FEATURES = ["bold", "italic", "link"]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Heading"), max_length=200)
    level = blocks.ChoiceBlock(
        label=_("Level"),
        choices=[("h2", _("Section heading")), ("h3", _("Sub-heading"))],
        default="h2",
    )

    class Meta:
        icon = "title"
        label = _("Heading")
        template = "sites/blocks/heading.html"


class FigureBlock(blocks.StructBlock):
    image = ImageBlock(label=_("Image"))
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=250)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "sites/blocks/figure.html"


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(label=_("Quote"))
    author = blocks.CharBlock(label=_("Author"), required=False, max_length=120)
    role = blocks.CharBlock(label=_("Author's role"), required=False, max_length=120)

    class Meta:
        icon = "openquote"
        label = _("Quote")
        template = "sites/blocks/quote.html"


class LinkStructValue(blocks.StructValue):
    def url(self) -> str:
        page = self.get("page")
        if page:
            return page.url or ""
        return self.get("link_url") or ""


class CallToActionBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=120)
    text = blocks.TextBlock(label=_("Text"), required=False)
    button_label = blocks.CharBlock(label=_("Button label"), max_length=60)
    page = blocks.PageChooserBlock(label=_("Page"), required=False)
    link_url = blocks.URLBlock(
        label=_("Or an external address"),
        required=False,
        help_text=_("Used when no page is chosen."),
    )
    style = blocks.ChoiceBlock(
        label=_("Style"),
        choices=[
            ("primary", _("Primary colour")),
            ("secondary", _("Secondary colour")),
            ("light", _("Light")),
        ],
        default="primary",
    )

    class Meta:
        icon = "pick"
        label = _("Call to action")
        template = "sites/blocks/call_to_action.html"
        value_class = LinkStructValue


class HighlightBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=120)
    text = blocks.TextBlock(label=_("Text"), required=False)
    page = blocks.PageChooserBlock(label=_("Link to a page"), required=False)

    class Meta:
        icon = "pick"
        label = _("Highlight")
        value_class = LinkStructValue


class HighlightsBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), required=False, max_length=120)
    items = blocks.ListBlock(HighlightBlock(), label=_("Highlights"), min_num=1, max_num=6)

    class Meta:
        icon = "list-ul"
        label = _("Highlights")
        template = "sites/blocks/highlights.html"


class KeyFiguresBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), required=False, max_length=120)
    figures = blocks.ListBlock(
        blocks.StructBlock(
            [
                ("figure", blocks.CharBlock(label=_("Figure"), max_length=20)),
                ("label", blocks.CharBlock(label=_("What it counts"), max_length=120)),
            ],
            label=_("Figure"),
        ),
        label=_("Figures"),
        min_num=1,
        max_num=6,
    )

    class Meta:
        icon = "table"
        label = _("Key figures")
        template = "sites/blocks/key_figures.html"


class ProposalBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Proposal"), max_length=200)
    detail = blocks.RichTextBlock(
        label=_("Detail"), features=INLINE_FEATURES + ["ul"], required=False
    )

    class Meta:
        icon = "tick"
        label = _("Proposal")


class ThemeProposalsBlock(blocks.StructBlock):
    """One theme of a programme (e.g. "Santé") and its proposals."""

    title = blocks.CharBlock(label=_("Theme"), max_length=120)
    intro = blocks.TextBlock(label=_("Introduction"), required=False)
    proposals = blocks.ListBlock(ProposalBlock(), label=_("Proposals"), min_num=1)

    class Meta:
        icon = "list-ol"
        label = _("Programme theme")
        template = "sites/blocks/theme_proposals.html"


class FaqBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), required=False, max_length=120)
    questions = blocks.ListBlock(
        blocks.StructBlock(
            [
                ("question", blocks.CharBlock(label=_("Question"), max_length=200)),
                ("answer", blocks.RichTextBlock(label=_("Answer"), features=INLINE_FEATURES)),
            ],
            label=_("Question"),
        ),
        label=_("Questions"),
    )

    class Meta:
        icon = "help"
        label = _("Questions and answers")
        template = "sites/blocks/faq.html"


class LatestNewsBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), default=_("Latest news"), max_length=120)
    count = blocks.IntegerBlock(label=_("Number of articles"), default=3, min_value=1, max_value=12)

    class Meta:
        icon = "doc-full"
        label = _("Latest news")
        template = "sites/blocks/latest_news.html"

    def get_context(
        self, value: Any, parent_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from sites.selectors import latest_articles

        context = super().get_context(value, parent_context)
        page = (parent_context or {}).get("page")
        context["articles"] = latest_articles(page, value["count"]) if page else []
        return context


class UpcomingEventsBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), default=_("Upcoming events"), max_length=120)
    count = blocks.IntegerBlock(label=_("Number of events"), default=3, min_value=1, max_value=12)

    class Meta:
        icon = "date"
        label = _("Upcoming events")
        template = "sites/blocks/upcoming_events.html"

    def get_context(
        self, value: Any, parent_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from sites.selectors import upcoming_events

        context = super().get_context(value, parent_context)
        page = (parent_context or {}).get("page")
        context["events"] = upcoming_events(page, value["count"]) if page else []
        return context


def body_blocks() -> list[tuple[str, blocks.Block]]:
    """The blocks every page body offers, in the order editors see them."""
    return [
        ("heading", HeadingBlock()),
        (
            "paragraph",
            blocks.RichTextBlock(
                label=_("Paragraph"),
                features=RICH_TEXT_FEATURES,
                icon="pilcrow",
                template="sites/blocks/paragraph.html",
            ),
        ),
        ("image", FigureBlock()),
        ("quote", QuoteBlock()),
        ("call_to_action", CallToActionBlock()),
        ("highlights", HighlightsBlock()),
        ("key_figures", KeyFiguresBlock()),
        ("faq", FaqBlock()),
        ("latest_news", LatestNewsBlock()),
        ("upcoming_events", UpcomingEventsBlock()),
    ]


def programme_blocks() -> list[tuple[str, blocks.Block]]:
    return [("theme", ThemeProposalsBlock()), *body_blocks()]


class MenuItemBlock(blocks.StructBlock):
    label = blocks.CharBlock(
        label=_("Label"), max_length=60, required=False, help_text=_("Defaults to the page title.")
    )
    page = blocks.PageChooserBlock(label=_("Page"), required=False)
    link_url = blocks.URLBlock(label=_("Or an external address"), required=False)

    class Meta:
        icon = "link"
        label = _("Menu item")
        value_class = LinkStructValue

    def clean(self, value: Any) -> Any:
        from django.core.exceptions import ValidationError
        from wagtail.blocks.struct_block import StructBlockValidationError

        value = super().clean(value)
        if not value.get("page") and not value.get("link_url"):
            raise StructBlockValidationError(
                block_errors={"page": ValidationError(_("Choose a page or enter an address."))}
            )
        if not value.get("page") and not value.get("label"):
            raise StructBlockValidationError(
                block_errors={"label": ValidationError(_("An external link needs a label."))}
            )
        return value


def menu_blocks() -> list[tuple[str, blocks.Block]]:
    return [("item", MenuItemBlock())]
