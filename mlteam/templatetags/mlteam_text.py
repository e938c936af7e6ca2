from django import template
from django.utils.html import format_html_join

from mlteam.markdown import render_markdown, render_markdown_inline
from mlteam.text import list_separator

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    """`{{ answer|markdown }}`: typed markdown as sanitised HTML."""
    return render_markdown(text or "")


@register.filter(name="markdown_inline")
def markdown_inline_filter(text: str):
    """`{{ event.display_after|markdown_inline }}`: typed text within a line, sanitised."""
    return render_markdown_inline(str(text or ""))


@register.simple_tag(name="list_separator")
def list_separator_tag() -> str:
    """`{% list_separator %}` between items a loop draws: ", " in English, "、" in Japanese."""
    return list_separator()


@register.filter
def listed(items) -> str:
    """`{{ names|listed }}`: the items, each escaped, joined as the reader's language
    joins a list."""
    return format_html_join(list_separator(), "{}", ((item,) for item in items))


@register.filter
def fractions(parts) -> str:
    """`{{ row.sections|fractions }}`: (name, part, whole) triples as "name part/whole",
    each escaped and kept on one line, separated by middle dots (one filter rather than
    a loop of template nodes: tables draw it on every row)."""
    return format_html_join(" · ", '<span class="text-nowrap">{} {}/{}</span>', parts)
