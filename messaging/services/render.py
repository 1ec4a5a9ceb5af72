"""Content: blocks to responsive HTML and plain text, merge fields with fallbacks, compiled once.

Merge fields are written `{{ first_name | ami·e }}` (the part after the bar is the fallback):
`first_name`, `last_name`, `commune`, `bureau`, `custom.<key>` (a CRM custom field). A
`Compiled` template is built once per blast (and variant); each recipient only costs a list of
values, substituted locally (outbox, SMTP) or by the provider (SendGrid's batch API).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

MERGE = re.compile(r"\{\{\s*([a-z_][a-z0-9_.\-]*)\s*(?:\|\s*([^}]*?))?\s*\}\}")
PERSON_FIELDS = ("first_name", "last_name", "commune", "bureau")
SYSTEM_FIELDS = ("unsubscribe_url", "preferences_url", "origin")
BLOCK_TYPES = ("text", "image", "button", "quote", "donation")


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    field: str
    fallback: str = ""


Part = str | int  # static text, or the index of a token


@dataclass
class Compiled:
    subject: list[Part] = field(default_factory=list)
    html: list[Part] = field(default_factory=list)
    text: list[Part] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)

    def token(self, name: str, fallback: str = "") -> int:
        wanted = Token(name, fallback)
        if wanted in self.tokens:
            return self.tokens.index(wanted)
        self.tokens.append(wanted)
        return len(self.tokens) - 1

    @property
    def custom_keys(self) -> set[str]:
        return {t.field[7:] for t in self.tokens if t.field.startswith("custom.")}

    def values(self, data: dict[str, str]) -> list[str]:
        """This recipient's value for each token (its fallback when empty)."""
        return [data.get(t.field) or t.fallback for t in self.tokens]

    def render(self, values: Sequence[str]) -> tuple[str, str, str]:
        """(subject, html, text) for one recipient."""
        escaped = [html.escape(v) for v in values]
        return (
            "".join(p if isinstance(p, str) else values[p] for p in self.subject),
            "".join(p if isinstance(p, str) else escaped[p] for p in self.html),
            "".join(p if isinstance(p, str) else values[p] for p in self.text),
        )

    def with_markers(self) -> tuple[str, str, str]:
        """The template with one marker per token, for a provider that substitutes (SendGrid)."""
        return (
            "".join(p if isinstance(p, str) else f"%%t{p}%%" for p in self.subject),
            "".join(p if isinstance(p, str) else f"%%h{p}%%" for p in self.html),
            "".join(p if isinstance(p, str) else f"%%t{p}%%" for p in self.text),
        )

    def substitutions(self, values: Sequence[str]) -> dict[str, str]:
        text_keys, html_keys = _marker_keys(len(values))
        subs = dict(zip(text_keys, values, strict=True))
        subs.update(zip(html_keys, map(html.escape, values), strict=True))
        return subs


@functools.cache
def _marker_keys(count: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The markers of `with_markers`, made once (a blast asks for them per recipient)."""
    return tuple(f"%%t{i}%%" for i in range(count)), tuple(f"%%h{i}%%" for i in range(count))


def check_merge_fields(text: str, custom_keys: Iterable[str] = ()) -> None:
    allowed = set(PERSON_FIELDS) | set(SYSTEM_FIELDS) | {f"custom.{k}" for k in custom_keys}
    for match in MERGE.finditer(text):
        if match.group(1) not in allowed:
            raise ContentError(
                _("Unknown merge field %(field)s. Known: %(known)s")
                % {"field": match.group(1), "known": ", ".join(sorted(allowed))}
            )


def _parts(compiled: Compiled, text: str, *, escape: bool) -> list[Part]:
    parts: list[Part] = []
    position = 0
    for match in MERGE.finditer(text):
        static = text[position : match.start()]
        parts.append(html.escape(static) if escape else static)
        parts.append(compiled.token(match.group(1), (match.group(2) or "").strip()))
        position = match.end()
    tail = text[position:]
    parts.append(html.escape(tail) if escape else tail)
    return [p for p in parts if p != ""]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


HTML_HEAD = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    "<style>body{margin:0;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif}"
    ".wrap{max-width:600px;margin:0 auto;background:#fff;padding:24px}"
    "img{max-width:100%;height:auto}.btn{display:inline-block;padding:12px 20px;"
    "background:#1d3c78;color:#fff!important;text-decoration:none;border-radius:4px}"
    "blockquote{border-left:4px solid #1d3c78;margin:16px 0;padding:4px 16px;color:#333}"
    ".footer{font-size:12px;color:#666;margin-top:32px}"
    "@media (max-width:620px){.wrap{padding:12px}}</style></head><body>"
)


def compile_email(
    *, subject: str, blocks: list[dict[str, Any]], preheader: str = "", campaign_name: str = ""
) -> Compiled:
    compiled = Compiled()
    compiled.subject = _parts(compiled, subject, escape=False)
    h: list[Part] = [HTML_HEAD]
    t: list[Part] = []
    if preheader:
        h.append('<div style="display:none;max-height:0;overflow:hidden">')
        h += _parts(compiled, preheader, escape=True)
        h.append("</div>")
    h.append('<table role="presentation" width="100%"><tr><td><div class="wrap">')
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            for paragraph in _paragraphs(block.get("text", "")):
                h.append("<p>")
                h += _parts(compiled, paragraph, escape=True)
                h.append("</p>")
                t += _parts(compiled, paragraph, escape=False)
                t.append("\n\n")
        elif kind == "image" and block.get("url"):
            h.append(
                f'<p><img src="{_attr(block["url"])}" alt="{_attr(block.get("alt", ""))}"></p>'
            )
            if block.get("alt"):
                t.append(f"[{block['alt']}]\n\n")
        elif kind in ("button", "donation") and block.get("url"):
            label = block.get("label") or (_("Donate") if kind == "donation" else _("Open"))
            if kind == "donation" and block.get("text"):
                h.append("<p>")
                h += _parts(compiled, block["text"], escape=True)
                h.append("</p>")
                t += _parts(compiled, block["text"], escape=False)
                t.append("\n")
            h.append(f'<p><a class="btn" href="{_attr(block["url"])}">{html.escape(label)}</a></p>')
            t.append(f"{label}: {block['url']}\n\n")
        elif kind == "quote" and block.get("text"):
            h.append("<blockquote>")
            h += _parts(compiled, block["text"], escape=True)
            if block.get("author"):
                h.append(f"<br>— {html.escape(block['author'])}")
            h.append("</blockquote>")
            t.append("« ")
            t += _parts(compiled, block["text"], escape=False)
            t.append(f" »{' — ' + block['author'] if block.get('author') else ''}\n\n")
    origin = compiled.token("origin")
    unsubscribe = compiled.token("unsubscribe_url")
    preferences = compiled.token("preferences_url")
    h += [
        '<div class="footer"><p>',
        html.escape(_("You receive this message from %(sender)s.") % {"sender": campaign_name}),
        " ",
        html.escape(_("Where your details come from:")),
        " ",
        origin,
        '</p><p><a href="',
        unsubscribe,
        '">',
        html.escape(_("Unsubscribe")),
        '</a> · <a href="',
        preferences,
        '">',
        html.escape(_("Manage my preferences")),
        "</a></p></div></div></td></tr></table></body></html>",
    ]
    t += [
        "--\n",
        _("You receive this message from %(sender)s.") % {"sender": campaign_name},
        " ",
        _("Where your details come from:"),
        " ",
        origin,
        "\n",
        _("Unsubscribe:"),
        " ",
        unsubscribe,
        "\n",
        _("Manage my preferences:"),
        " ",
        preferences,
        "\n",
    ]
    compiled.html = h
    compiled.text = t
    return compiled


def compile_sms(text: str, *, stop_by_reply: bool) -> Compiled:
    compiled = Compiled()
    compiled.text = _parts(compiled, text.strip(), escape=False)
    if stop_by_reply:
        compiled.text.append("\n" + _("STOP to unsubscribe"))
    else:
        compiled.text += ["\n" + _("Unsubscribe:") + " ", compiled.token("unsubscribe_url")]
    return compiled


def validate_blocks(blocks: Any) -> list[dict[str, Any]]:
    if not isinstance(blocks, list):
        raise ContentError(_("The content must be a list of blocks."))
    for number, block in enumerate(blocks, start=1):
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            raise ContentError(_("Block %(n)s: unknown block type.") % {"n": number})
        for key in ("url",):
            url = block.get(key)
            if url and not str(url).startswith(("https://", "http://")):
                raise ContentError(
                    _("Block %(n)s: the link must start with https://") % {"n": number}
                )
    return blocks
