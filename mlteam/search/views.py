"""The search page: the navigation's box submits here (and htmx asks it for the
results alone while a person types)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors
from .forms import SearchForm

PAGE_SIZE = 20


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    values = SearchForm(request.GET).values()
    text = (values["q"] or "").strip()
    page = (
        selectors.search(
            user=request.user, text=text, page_number=values["page"], per_page=PAGE_SIZE
        )
        if text
        else None
    )
    template = "search/_results.html" if request.htmx else "search/search.html"
    return render(request, template, {"query": text, "page_obj": page})
