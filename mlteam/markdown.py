"""Markdown that people type (handbook answers, expectations, evaluations, project
descriptions, comments, reasons, type descriptions), made safe.

Two layers: markdown-it renders CommonMark with raw HTML switched off (typed tags
come out as text) and refuses `javascript:`-style links; nh3 (the Ammonia
sanitiser) then keeps only an allow-list of tags and attributes, so whatever the
renderer might let through, no script, handler or style reaches the page.

Images are not shown (no request leaves for someone else's server, and the CSP
refuses them), yet nothing typed vanishes: `![alt](address)` reads as a link to
the address named by its alt text (or by the address itself), which goes through
the same link checks as any other.
"""

from __future__ import annotations

import html
from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_renderer.enable("table").enable("strikethrough")


def _image_as_link(self, tokens, idx, options, env) -> str:
    """markdown-it render rule for `image` tokens (whose address markdown-it has
    already validated): a link, or only its text inside another link."""
    token = tokens[idx]
    address = token.attrGet("src") or ""
    text = self.renderInlineAsText(token.children or [], options, env).strip() or address
    depth = sum((t.type == "link_open") - (t.type == "link_close") for t in tokens[:idx])
    if depth > 0:
        return escapeHtml(text)
    title = token.attrGet("title")
    title_attribute = f' title="{escapeHtml(str(title))}"' if title else ""
    return f'<a href="{escapeHtml(str(address))}"{title_attribute}>{escapeHtml(str(text))}</a>'


_renderer.add_render_rule("image", _image_as_link)


def render_markdown(text: str) -> SafeString:
    """HTML for `text`, safe to put in a page as it is."""
    if not text or not text.strip():
        return mark_safe("")
    return _block(text)


# A project's description heads its page on every request (about 0.5 ms to render):
# kept like the inline texts below, for fewer texts since these can be long.
@lru_cache(maxsize=256)
def _block(text: str) -> SafeString:
    return _clean(_renderer.render(text))


def render_markdown_inline(text: str) -> SafeString:
    """Typed text quoted within a line (a comment or reason in a history entry):
    emphasis, code and links, without paragraphs or headings."""
    if not text or not text.strip():
        return mark_safe("")
    return _inline(text)


# The same history entries are shown again on every dashboard and activity page, and
# parsing plus sanitising costs about 0.1 ms a text (a third of the project page's
# activity list, bench/pages.py): the result, a function of the text alone, is kept
# for the most recent texts of this process.
@lru_cache(maxsize=2048)
def _inline(text: str) -> SafeString:
    return _clean(_renderer.renderInline(text))


def _clean(html: str) -> SafeString:
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 (sanitised by nh3 just above)


def plain_text(text: str) -> str:
    """What a reader sees of `text` once rendered, without its markup: for a line
    that quotes it (a search result), where `**bias**` should read "bias"."""
    if not text or not text.strip():
        return ""
    words = nh3.clean(str(render_markdown(text)), tags=set(), attributes={})
    return " ".join(html.unescape(words).split())
