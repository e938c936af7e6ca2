"""Cursor pagination (mlteam.api.pagination): a cursor the list never gave is bad
input (a 400 problem naming `cursor`), never a 404 or a fault."""

from __future__ import annotations

from base64 import b64encode

import pytest
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from mlteam.api.pagination import CursorPagination
from mlteam.api.problems import exception_handler
from roles.models import Role

pytestmark = pytest.mark.django_db


def _page(query: dict):
    request = Request(APIRequestFactory().get("/api/v1/things/", query))
    paginator = CursorPagination()
    paginator.page_size = 2
    return paginator, paginator.paginate_queryset(Role.objects.all(), request), request


def test_pages_follow_their_cursors():
    paginator, first, _request = _page({})
    cursor = paginator.get_next_link().split("cursor=")[1]
    _paginator, second, _request = _page({"cursor": cursor})
    assert len(first) == 2 and second and {r.pk for r in first}.isdisjoint(r.pk for r in second)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 ~~~",
        "\u00e9\u00e9",
        b64encode(b"p=abc").decode(),  # a position that is no id
        b64encode(b"o=-3").decode(),
    ],
)
def test_a_cursor_the_list_never_gave_is_a_400_problem(cursor):
    with pytest.raises(exceptions.ValidationError) as raised:
        _page({"cursor": cursor})
    response = exception_handler(raised.value, {"request": None})
    assert response.status_code == 400
    assert response.data["errors"][0]["field"] == "cursor"
    assert response.data["errors"][0]["code"] == "invalid_cursor"
