from django import template

from mlteam.people import is_deactivated, person_name

register = template.Library()


@register.filter(name="person")
def person_filter(user) -> str:
    """`{{ event.actor|person }}`: the person's name as every page shows it
    (`mlteam.people.person_name`: "Former member" once anonymised)."""
    return person_name(user)


@register.filter(name="deactivated")
def deactivated_filter(user) -> bool:
    """`{% if deliverable.owner|deactivated %}`: switched off, not merely invited."""
    return user is not None and is_deactivated(user)
