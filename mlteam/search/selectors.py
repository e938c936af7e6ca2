"""The site's search: projects, people, deliverables, handbook answers and comments
the reader may see, ranked, in one list.

Each kind starts from its own visibility rule (`Project.objects.visible_to`,
`people_visible_to`, `Deliverable.objects.visible_to` and the checklist items' and
comments' `visible_to`, which follow the deliverables'); the search only narrows it.

A page costs the same number of queries whatever the data (tests/search):
1. the deliverable types whose name, in the reader's language, holds the words
   (the catalogue is small; names are translated in Python, not in the database);
2. the best (kind, id, rank) rows, at most COUNT_LIMIT + 1: one UNION ALL of the
   five kinds, ordered by rank; their number is the count, the page a slice;
3-7. the page's rows of each kind present, with what their lines show.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.paginator import Page
from django.db import connection
from django.db.models import Case, CharField, FloatField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from deliverables.models import (
    ChecklistItem,
    Deliverable,
    DeliverableComment,
    DeliverableLink,
    DeliverableType,
)
from deliverables.practices.selectors import PROCESS_DOCUMENTATION
from deliverables.selectors import BoundedPaginator
from mlteam.markdown import plain_text
from mlteam.people import ANONYMISED_USERNAME_PREFIX, person_name
from roles.models import Project, people_visible_to

# Full-text search's configuration: 'simple' keeps every word as written (no
# English stemming, no stop words), so English and Japanese words are both kept.
CONFIG = "simple"

# What each kind searches, for the full-text vectors and their GIN indexes
# (migrations/0001) alike: one list, so the index serves the query. Projects and
# people are matched by "contains" (`Matcher.by_contains`): no index.
FIELDS = {
    "project": ("name", "business_problem"),
    "person": ("username", "first_name", "last_name"),
    "deliverable": ("title", "description"),
    "link": ("label",),
    "answer": ("answer",),
    "comment": ("body",),
}

# The results counted at most (BoundedPaginator): beyond, the page says "the first
# 1,000" and fewer words or other ones narrow it; counting every match of a common
# word at 50,000 deliverables costs as much as ranking them.
COUNT_LIMIT = 1_000

PROJECT, PERSON, DELIVERABLE, ANSWER, COMMENT = (
    "project",
    "person",
    "deliverable",
    "answer",
    "comment",
)
KIND_LABELS = {
    PROJECT: _("Project"),
    PERSON: _("Person"),
    DELIVERABLE: _("Deliverable"),
    ANSWER: _("Handbook answer"),
    COMMENT: _("Comment"),
}


def vector(*fields: str, prefix: str = "") -> SearchVector:
    """The full-text vector of `fields` (the GIN indexes are built on the same)."""
    return SearchVector(*(f"{prefix}{field}" for field in fields), config=CONFIG)


def full_text() -> bool:
    """Whether the database has full-text search (PostgreSQL), or the search falls
    back to plain "contains" matching (SQLite)."""
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class Matcher:
    """How the words match text, decided once per search (`matcher`).

    PostgreSQL: full text (`@@`, served by GIN indexes), ranked by `ts_rank`.
    Words in scripts written without spaces (Japanese) are not split by the
    'simple' parser, so such a search matches by "contains" there too.
    SQLite: "contains" on each field; a field that starts with the words ranks
    higher than one that only contains them."""

    text: str
    use_full_text: bool

    def condition(self, fields: tuple[str, ...]) -> Q:
        if self.use_full_text:
            return Q(**{"search_vector": self.query()})
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": self.text})
        return condition

    def by_contains(self) -> Matcher:
        """This search by "contains" whatever the database: for names, on tables
        with few rows (projects, people), where part of a name ("Kob" for Kobayashi)
        should find it and scanning every row costs little."""
        return Matcher(text=self.text, use_full_text=False)

    def query(self) -> SearchQuery:
        return SearchQuery(self.text, config=CONFIG, search_type="websearch")

    def matching(self, rows: QuerySet, fields: tuple[str, ...]) -> QuerySet:
        """`rows` whose `fields` hold the words (the vector annotated when full text)."""
        if self.use_full_text:
            rows = rows.annotate(search_vector=vector(*fields))
        return rows.filter(self.condition(fields))

    def rank(self, fields: tuple[str, ...]):
        if self.use_full_text:
            return SearchRank(vector(*fields), self.query())
        starts = Q()
        for field in fields:
            starts |= Q(**{f"{field}__istartswith": self.text})
        return Case(When(starts, then=Value(0.2)), default=Value(0.1), output_field=FloatField())


def matcher(text: str) -> Matcher:
    """THE choice between full text and "contains" (see `Matcher`)."""
    return Matcher(text=text, use_full_text=full_text() and text.isascii())


def _type_ids_named(text: str) -> list[int]:
    """Types whose name, in the reader's language, contains `text` (query 1)."""
    folded = text.casefold()
    return [
        deliverable_type.pk
        for deliverable_type in DeliverableType.objects.order_by().only("pk", "name")
        if folded in deliverable_type.display_name.casefold()
        or folded in deliverable_type.name.casefold()
    ]


@dataclass(frozen=True)
class _Kind:
    """One kind's matches the reader may see (`rows`), and how they rank."""

    kind: str
    rows: QuerySet
    rank: object

    def ranked(self) -> QuerySet:
        """The kind's part of the union: (kind, id, rank), for the newest
        COUNT_LIMIT + 1 matching rows of the kind (one more than the page counts,
        so that a kind with more is known to be capped). A common word (every
        fourth title at 50,000 deliverables) ranks 1,001 rows, not 12,500, and the
        page says it shows the first 1,000. PostgreSQL limits each part of a union
        itself, so the rank is computed on the newest rows as they are read;
        SQLite cannot, and takes them by id."""
        newest = self.rows.order_by("-pk")
        if not connection.features.supports_slicing_ordering_in_compound:
            newest = self.rows.model.objects.filter(
                pk__in=newest.values("pk")[: COUNT_LIMIT + 1]
            ).order_by()
        rows = newest.annotate(
            search_kind=Value(self.kind, output_field=CharField()), search_rank=self.rank
        ).values_list("search_kind", "pk", "search_rank")
        if connection.features.supports_slicing_ordering_in_compound:
            rows = rows[: COUNT_LIMIT + 1]
        return rows


def _projects(user, match: Matcher) -> _Kind:
    fields, match = FIELDS[PROJECT], match.by_contains()
    rows = match.matching(Project.objects.visible_to(user), fields)
    return _Kind(PROJECT, rows, match.rank(fields))


def _people(user, match: Matcher) -> _Kind:
    fields, match = FIELDS[PERSON], match.by_contains()
    rows = people_visible_to(user).exclude(username__startswith=ANONYMISED_USERNAME_PREFIX)
    return _Kind(PERSON, match.matching(rows, fields), match.rank(fields))


def _deliverables(user, match: Matcher) -> _Kind:
    """Deliverables whose title or description hold the words, whose type's name
    does, or one of whose links does by its label or address. Each way is its own
    subquery of ids (served by its index), so the visible rows are never scanned
    with text functions."""
    fields = FIELDS[DELIVERABLE]
    by_text = match.matching(Deliverable.objects.all(), fields).values("pk")
    links = match.matching(DeliverableLink.objects.all(), FIELDS["link"])
    by_link = DeliverableLink.objects.filter(
        Q(pk__in=links.values("pk")) | Q(url__icontains=match.text)
    ).values("deliverable_id")
    found = Q(pk__in=by_text) | Q(pk__in=by_link)
    type_ids = _type_ids_named(match.text)
    if type_ids:
        found |= Q(type_id__in=type_ids)
    rows = Deliverable.objects.visible_to(user).filter(found)
    # Own words first; a match by type or link alone still ranks above nothing.
    rank = match.rank(fields)
    if match.use_full_text:
        rank = rank + Value(0.01)
    return _Kind(DELIVERABLE, rows, rank)


def _answers(user, match: Matcher) -> _Kind:
    """Answered questions of team handbooks (the process documentation's checklist)."""
    fields = FIELDS[ANSWER]
    rows = match.matching(ChecklistItem.objects.visible_to(user), fields).filter(
        deliverable__type__slug=PROCESS_DOCUMENTATION
    )
    return _Kind(ANSWER, rows, match.rank(fields))


def _comments(user, match: Matcher) -> _Kind:
    fields = FIELDS[COMMENT]
    rows = match.matching(DeliverableComment.objects.visible_to(user).shown(), fields)
    return _Kind(COMMENT, rows, match.rank(fields))


@dataclass
class SearchResult:
    kind: str
    title: str
    url: str
    context: str = ""  # the project, or where the text was found
    excerpt: str = ""

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])


def _excerpt(text: str, words: str, width: int = 160) -> str:
    """A piece of `text` (typed markdown, read as plain text) around the first word
    found, or its beginning."""
    text = plain_text(text)
    if len(text) <= width:
        return text
    lowered = text.casefold()
    at = min((i for i in (lowered.find(w.casefold()) for w in words.split()) if i >= 0), default=0)
    start = max(0, at - width // 3)
    piece = text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def _results(rows: list[tuple[str, int, float]], text: str) -> list[SearchResult]:
    """The page's results, each kind loaded once with what its line shows (3-7)."""
    ids: dict[str, list[int]] = {}
    for kind, pk, _rank in rows:
        ids.setdefault(kind, []).append(pk)
    loaded: dict[tuple[str, int], SearchResult] = {}
    if ids.get(PROJECT):
        projects = Project.objects.filter(pk__in=ids[PROJECT]).order_by()
        for project in projects.only("name", "business_problem"):
            loaded[PROJECT, project.pk] = SearchResult(
                PROJECT,
                project.name,
                reverse("roles:project_detail", args=[project.pk]),
                excerpt=_excerpt(project.business_problem, text),
            )
    if ids.get(PERSON):
        from django.contrib.auth import get_user_model

        people = get_user_model().objects.filter(pk__in=ids[PERSON]).order_by()
        for person in people.only("username", "first_name", "last_name"):
            loaded[PERSON, person.pk] = SearchResult(
                PERSON,
                person_name(person),
                reverse("roles:people_list") + "?" + _query({"q": person.get_username()}),
                context=person.get_username(),
            )
    if ids.get(DELIVERABLE):
        deliverables = Deliverable.objects.filter(pk__in=ids[DELIVERABLE]).order_by()
        for deliverable in deliverables.select_related("type", "project").only(
            "title", "description", "type__name", "project__name"
        ):
            loaded[DELIVERABLE, deliverable.pk] = SearchResult(
                DELIVERABLE,
                deliverable.label,
                reverse("deliverables:detail", args=[deliverable.pk]),
                context=deliverable.project.name,
                excerpt=_excerpt(deliverable.description, text),
            )
    if ids.get(ANSWER):
        items = ChecklistItem.objects.filter(pk__in=ids[ANSWER]).order_by()
        for item in items.select_related("deliverable__project").only(
            "text", "answer", "deliverable__project__name"
        ):
            project = item.deliverable.project
            loaded[ANSWER, item.pk] = SearchResult(
                ANSWER,
                item.display_text,
                reverse("practices:handbook", args=[project.pk]),
                context=project.name,
                excerpt=_excerpt(item.answer, text),
            )
    if ids.get(COMMENT):
        comments = DeliverableComment.objects.filter(pk__in=ids[COMMENT]).order_by()
        for comment in comments.select_related(
            "deliverable__type", "deliverable__project", "author"
        ).only(
            "body",
            "deliverable__title",
            "deliverable__type__name",
            "deliverable__project__name",
            "author__username",
            "author__first_name",
            "author__last_name",
        ):
            deliverable = comment.deliverable
            loaded[COMMENT, comment.pk] = SearchResult(
                COMMENT,
                deliverable.label,
                reverse("deliverables:detail", args=[deliverable.pk]) + "#comments",
                context=f"{deliverable.project.name} · {person_name(comment.author)}",
                excerpt=_excerpt(comment.body, text),
            )
    return [loaded[kind, pk] for kind, pk, _rank in rows if (kind, pk) in loaded]


def _query(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def search(*, user, text: str, page_number: int | None = 1, per_page: int = 20) -> Page:
    """What `user` may see that holds `text`, best first, one page of `per_page`.

    The ranks of different kinds are compared as they are: full-text ranks of short
    texts (names, titles) come out higher than those of long ones, which suits a
    search box where names are what people look for most."""
    match = matcher(text)
    first, *others = (
        _projects(user, match),
        _people(user, match),
        _deliverables(user, match),
        _answers(user, match),
        _comments(user, match),
    )
    ranked = first.ranked().union(*(kind.ranked() for kind in others), all=True)
    # The best COUNT_LIMIT + 1 rows at once: their number is the count (a second
    # query counting the same union read every match again), the page a slice.
    rows = list(ranked.order_by("-search_rank", "search_kind", "-id")[: COUNT_LIMIT + 1])
    page = BoundedPaginator(rows, per_page, limit=COUNT_LIMIT).get_page(page_number)
    page.object_list = _results(list(page.object_list), text)
    return page
