"""Addresses of many rows at once."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

_MARKER = 987654321  # stands in for the row's id in the one reverse


def row_url(viewname: str, *args) -> Callable[[int], str]:
    """The URL of `viewname` (after `args`) as a function of a row's id, its last
    argument: one `reverse` for a whole list rather than one per row (a page of 20
    projects drew about 40, ~1.5 ms)."""
    head, _marker, tail = reverse(viewname, args=[*args, _MARKER]).rpartition(str(_MARKER))
    return lambda pk: f"{head}{pk}{tail}"
