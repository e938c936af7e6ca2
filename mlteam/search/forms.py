from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mlteam.forms import QueryForm, SearchField


class SearchForm(QueryForm):
    q = SearchField(label=_("Search"))
