from django import template

from mlteam.markdown import render_markdown, render_markdown_inline

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    """`{{ answer|markdown }}`: typed markdown as sanitised HTML."""
    return render_markdown(text or "")


@register.filter(name="markdown_inline")
def markdown_inline_filter(text: str):
    """`{{ event.display_after|markdown_inline }}`: typed text within a line, sanitised."""
    return render_markdown_inline(str(text or ""))
