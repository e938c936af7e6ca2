"""`{{ deliverable.due_date|day }}`, `{{ comment.created_at|moment }}`,
`{{ event.created_at|ago }}`: the only ways pages and emails show times (mlteam.dates)."""

from django import template

from mlteam.dates import format_ago, format_day, format_moment

register = template.Library()


@register.filter
def day(value):
    return format_day(value)


@register.filter
def moment(value):
    return format_moment(value)


@register.filter
def ago(value):
    return format_ago(value)
