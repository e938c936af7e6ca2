from django import template

from mlteam.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    """`{{ answer|markdown }}`: typed markdown as sanitised HTML."""
    return render_markdown(text or "")
