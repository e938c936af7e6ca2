"""Cursor pagination: stable pages while rows are added, and no COUNT of the rows."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PAGE_SIZE_PARAM = "page_size"


def page_size(request, default: int = PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """The page size a list's caller asks for (`page_size`): absent or empty, the
    default; otherwise a whole number from 1 to `maximum`, or a 400 naming it
    (never silently another size)."""
    raw = request.query_params.get(PAGE_SIZE_PARAM)
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise exceptions.ValidationError(
            {PAGE_SIZE_PARAM: [_("Give a page size from 1 to %(max)s.") % {"max": maximum}]}
        )
    return int(raw)


class CursorPagination(pagination.CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = PAGE_SIZE_PARAM
    max_page_size = MAX_PAGE_SIZE
    ordering = "pk"
    invalid_cursor_message = _(
        "This cursor is not one this list gave: follow the next and previous links, "
        "or start again without it."
    )

    def _invalid_cursor(self) -> exceptions.ValidationError:
        # Bad input (a 400 problem naming the parameter), not a missing page (DRF's 404).
        return exceptions.ValidationError(
            {self.cursor_query_param: [self.invalid_cursor_message]}, code="invalid_cursor"
        )

    def get_page_size(self, request):
        return page_size(request, self.page_size, self.max_page_size)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise self._invalid_cursor() from None

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError):
            # A well-formed cursor whose position does not fit the ordering's field
            # (`p=abc` for an id): the database is never asked a question that fails.
            if request.query_params.get(self.cursor_query_param) is None:
                raise
            raise self._invalid_cursor() from None
