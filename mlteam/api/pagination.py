"""Cursor pagination: stable pages while rows are added, and no COUNT of the rows."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
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
