"""The Markdown export opened in a viewer that renders it: what people typed (answers,
titles, the review reason) never becomes live HTML or a script link there, while their
markdown and their code keep reading as typed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from markdown_it import MarkdownIt

from deliverables.cards.export import inert_markdown
from deliverables.cards.services import card_link_set, flag_for_review
from deliverables.services import deliverable_update

pytestmark = pytest.mark.django_db

# A viewer that renders the raw HTML in a document (as many do).
VIEWER = MarkdownIt("commonmark", {"html": True})

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Text <a href='javascript:alert(1)'>here</a>",
    "[click](javascript:alert(1))",
    "[click](  JavaScript:alert(1) )",
    "[click](java\\script:alert(1))",
    "[click](javascript\\:alert(1))",
    "[click](jav&#97;script:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](\njavascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "[ref]\n\n[ref]:\n  vbscript:msgbox(1)",
    "\\`<img src=x onerror=alert(1)>\\`",
    "- item\n\n  ```\n  x\n<img src=x onerror=alert(1)>\n```",
    "&lt;script&gt; and &#60;script&#62;",
    "\\![x](https://tracker.example.com/pixel.png)",
    "\\\\![x](https://tracker.example.com/pixel.png)",
]


def _rendered(text: str) -> str:
    return VIEWER.render(text).lower()


def _schemes(html: str) -> set[str]:
    """The schemes of the addresses a browser would follow in `html` (read as a browser
    reads them: entities decoded, tabs, newlines and leading spaces ignored)."""
    found = set()

    class Addresses(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in ("href", "src") and value:
                    address = re.sub(r"[\t\n\r]", "", value).strip()
                    if match := re.match(r"([a-z][a-z0-9+.-]*):", address):
                        found.add(match[1])

    Addresses(convert_charrefs=True).feed(html)
    return found


@pytest.mark.parametrize("typed", ATTACKS)
def test_typed_html_and_script_links_stay_inert(typed):
    html = _rendered(inert_markdown(typed))
    for tag in ("<script", "<img", "<iframe", "<a href='"):
        assert tag not in html
    assert _schemes(html) <= {"http", "https", "mailto"}


def test_markdown_and_code_keep_reading_as_typed():
    typed = (
        "Scores churn **weekly**, see [the runbook](https://example.com/run?a=1&b=2).\n\n"
        "> quoted\n\n"
        "```python\nif score < 0.5 and ok & mask:\n    pass\n```\n\n"
        "    indented <code> block\n\n"
        "mail [us](mailto:ml@example.com), [relative](docs/a:b) and a < b & c\n\n"
        "![the chart](https://example.com/chart.png)"
    )
    html = VIEWER.render(inert_markdown(typed))
    assert "<strong>weekly</strong>" in html
    assert '<a href="https://example.com/run?a=1&amp;b=2">the runbook</a>' in html
    assert "<blockquote>" in html
    assert "if score &lt; 0.5 and ok &amp; mask:" in html  # code shown as typed
    assert "indented &lt;code&gt; block" in html
    assert 'href="mailto:ml@example.com"' in html and 'href="docs/a:b"' in html
    assert "a &lt; b &amp; c" in html  # reads "a < b & c"
    assert '!<a href="https://example.com/chart.png">the chart</a>' in html  # not fetched


def test_the_export_neutralises_answers_titles_and_the_review_reason(client, cards):
    manager = cards.world.people["manager"]
    cards.answer(0, "<img src=x onerror=alert(document.cookie)> [x](javascript:alert(1))")
    deliverable_update(
        deliverable=cards.card,
        actor=manager,
        version=cards.card.version,
        title="<script>alert(1)</script>",
        owner=cards.card.owner,
        due_date=cards.card.due_date,
        type=cards.card.type,
    )
    card_link_set(deliverable=cards.card, actor=manager, subject=cards.model, version=1)
    flag_for_review(deliverable=cards.model, reason="<iframe src=javascript:alert(1)>")
    client.force_login(cards.world.people["colleague"])
    text = client.get(reverse("cards:export", args=[cards.card.pk])).content.decode()
    html = _rendered(text)
    for bad in ("<img", "<script", "<iframe"):
        assert bad not in html
    assert _schemes(html) <= {"http", "https", "mailto"}
    assert "&lt;script>alert(1)&lt;/script>" in text  # still legible as text
