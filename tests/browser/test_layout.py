"""Headless Chromium: layouts that hold whatever people type and whichever language
they read.

1. On a phone (390 px), with a long unbroken token in every free-text field
   (names, project name and description, titles, comments, reasons, links,
   answers, reviews), no main page scrolls sideways, and the deliverables list
   keeps each row's status and due date in view.
2. On a desktop (1280 px) in Japanese, every filter on the deliverables and
   projects lists shows its whole selected text, and the project page's coverage
   matrix fits.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from deliverables.models import ChecklistItem, DeliverableStatus, LinkKind
from deliverables.reviews.models import Review, ReviewCycle
from deliverables.services import comment_add, deliverable_create, link_add
from mlteam.notifications.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from mlteam.notifications.services import endpoint_create
from roles.models import Project
from roles.services import membership_add, role_assign
from tests.conftest import ARTIFACTS, goto_drawn, language_context, sign_in
from tests.factories import UserFactory, deliverable_type, role
from tests.practices.conftest import practices  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = 390
WORD = "Supercalifragilisticexpialidocious" + "x" * 26  # 60 characters, no break
FORMULA = '＝HYPERLINK("http://evil.example/","click")'
ADDRESS = "https://example.com/" + "very-long-path" * 6
TEXT = f"{FORMULA} {WORD}"
TYPED = f"{TEXT}\n\n[{WORD}]({ADDRESS}) {ADDRESS} `{WORD}`"


def _context(browser, live_server, *, width: int, language: str = "en"):
    return language_context(browser, live_server, language, width=width)


def _long_text_everywhere(practices):  # noqa: F811
    """Every free-text field a page shows holds a long unbroken token."""
    manager = practices.people["manager"]
    get_user_model().objects.filter(pk__in=[u.pk for u in practices.people.values() if u]).update(
        first_name=WORD, last_name=FORMULA
    )
    Project.objects.filter(pk=practices.project.pk).update(name=TEXT, business_problem=TYPED)
    practices.project.refresh_from_db()
    ReviewCycle.objects.filter(pk=practices.cycle.pk).update(name=WORD)
    Review.objects.filter(pk=practices.review.pk).update(
        expectations=TYPED, evaluation_comment=TYPED, project_outcome=TYPED, self_assessment=TYPED
    )
    ChecklistItem.objects.filter(pk=practices.question.pk).update(
        text=TEXT, area=WORD, answer=TYPED, answered_by=manager, answered_at=timezone.now()
    )
    role_assign(
        membership=membership_add(project=practices.project, user=manager, actor=manager),
        role=role("ml-engineer"),
    )
    mine = deliverable_create(
        project=practices.project,
        type=deliverable_type("deployed-model"),
        title=TEXT,
        owner=manager,
        due_date=timezone.localdate() - timedelta(days=3),
        status=DeliverableStatus.BLOCKED,
        blocked_reason=TYPED,
        actor=manager,
    )
    link_add(deliverable=mine, actor=manager, kind=LinkKind.OTHER, url=ADDRESS, label=WORD)
    link_add(deliverable=mine, actor=manager, kind=LinkKind.DOCUMENT, url=ADDRESS)
    comment_add(deliverable=mine, actor=manager, body=TYPED)
    deliverable_create(
        project=practices.project,
        type=deliverable_type("analysis-report"),
        title=WORD * 3,
        owner=practices.people["person"],
        due_date=timezone.localdate() + timedelta(days=5),
        actor=manager,
    )
    return mine


def _webhook_with_a_delivery(practices):  # noqa: F811
    """An endpoint whose delivery log has a row: its table is wider than a phone."""
    endpoint = endpoint_create(
        actor=practices.people["manager"],
        project=practices.project,
        url="https://93.184.215.14/hooks/" + WORD,
        events=[WebhookEvent.DELIVERABLE_CREATED],
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        project=practices.project,
        event_id="evt_" + "0123456789abcdef" * 2,
        event_type=WebhookEvent.DELIVERABLE_CREATED,
        payload={"type": "deliverable.created"},
        status=DeliveryStatus.SUCCEEDED,
        attempts=1,
        last_response_code=204,
        duration_ms=13,
    )
    return endpoint


def _main_pages(practices, mine, endpoint) -> list[str]:  # noqa: F811
    project = practices.project.pk
    return [
        reverse("notifications:endpoints", args=[project]),
        reverse("notifications:deliveries", args=[project, endpoint.pk]),
        reverse("accounts:token_list"),
        reverse("home"),
        reverse("roles:project_list"),
        reverse("roles:project_detail", args=[project]),
        reverse("roles:project_activity", args=[project]),
        reverse("roles:project_team", args=[project]),
        reverse("deliverables:plan", args=[project]),
        reverse("deliverables:list"),
        reverse("deliverables:detail", args=[mine.pk]),
        reverse("deliverables:edit", args=[mine.pk]),
        reverse("deliverables:my_work"),
        reverse("roles:people_list"),
        reverse("roles:portfolio_coverage"),
        reverse("deliverables:portfolio_dashboard"),
        reverse("deliverables:portfolio_activity"),
        reverse("deliverables:reminder_preferences"),
        reverse("practices:handbook", args=[project]),
        reverse("reviews:cycle_list"),
        reverse("reviews:cycle_detail", args=[practices.cycle.pk]),
        reverse("reviews:review_detail", args=[practices.review.pk]),
    ]


WIDTHS = """() => ({
  page: document.documentElement.scrollWidth,
  widest: Array.from(document.querySelectorAll("main *"))
    .filter((node) => node.getBoundingClientRect().right > window.innerWidth + 0.5
      && !node.closest(".table-responsive"))
    .slice(-4)
    .map((node) => `${node.tagName}.${node.className} ${node.getBoundingClientRect().right}`),
})"""


# A table box that scrolls sideways shows it: shadows fixed to its edges (background
# attached to the box, "scroll") that its cells do not paint over.
SCROLLING_WITHOUT_CUE = """() => Array.from(document.querySelectorAll("main *"))
  .filter((box) => box.scrollWidth > box.clientWidth + 1
    && ["auto", "scroll"].includes(getComputedStyle(box).overflowX))
  .filter((box) => {
    const style = getComputedStyle(box);
    const shadows = style.backgroundImage.split("radial-gradient").length - 1;
    // A cell that scrolls with the table: a sticky one (the team matrix's names)
    // stays at its edge and hides no shadow of what lies beyond.
    const cell = Array.from(box.querySelectorAll("tbody tr:not([class*=table-]) > *"))
      .find((c) => getComputedStyle(c).position !== "sticky");
    const opaque = cell && getComputedStyle(cell).backgroundColor !== "rgba(0, 0, 0, 0)";
    return shadows < 2 || !style.backgroundAttachment.includes("scroll") || opaque;
  })
  .map((box) => `${box.tagName}.${box.className} ${box.scrollWidth}/${box.clientWidth}`)"""


# The site's own one-word button labels ("Search") never break inside the word. Only
# the label's text is measured: an icon beside it (Bootstrap Icons) sits a little lower.
SPLIT_BUTTON_WORDS = """() => Array.from(document.querySelectorAll("main .btn"))
  .filter((button) => button.offsetParent && /^\\S+$/.test(button.innerText.trim()))
  .filter((button) => {
    const tops = new Set();
    const walker = document.createTreeWalker(button, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.data.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      Array.from(range.getClientRects()).forEach((r) => tops.add(Math.round(r.top)));
    }
    return tops.size > 1;
  })
  .map((button) => button.innerText)"""


def test_no_main_page_scrolls_sideways_on_a_phone_with_long_text(live_server, browser, practices):  # noqa: F811
    mine = _long_text_everywhere(practices)
    endpoint = _webhook_with_a_delivery(practices)
    context = _context(browser, live_server, width=PHONE)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "manager")
        too_wide, no_cue, split = [], [], []
        for path in _main_pages(practices, mine, endpoint):
            response = goto_drawn(page, live_server.url + path)
            assert response is not None and response.status == 200, path
            widths = page.evaluate(WIDTHS)
            if widths["page"] > PHONE:
                too_wide.append(f"{path}: {widths['page']} px, {widths['widest']}")
            no_cue.extend(f"{path}: {box}" for box in page.evaluate(SCROLLING_WITHOUT_CUE))
            split.extend(f"{path}: {label}" for label in page.evaluate(SPLIT_BUTTON_WORDS))
        ARTIFACTS.mkdir(exist_ok=True)
        page.goto(live_server.url + reverse("roles:people_list"))
        page.screenshot(path=str(ARTIFACTS / "people-long-text-phone.png"))
        page.goto(live_server.url + reverse("deliverables:list"))
        page.screenshot(path=str(ARTIFACTS / "deliverables-long-text-phone.png"), full_page=True)
        assert not too_wide, "pages wider than the phone:\n" + "\n".join(too_wide)
        assert not split, "buttons whose one-word label breaks:\n" + "\n".join(split)
        assert not no_cue, "tables scrolling sideways with no shadow:\n" + "\n".join(no_cue)

        # Each row of the deliverables list shows its status and due date on screen
        # (a manager's status is a control to change it in place, not a badge).
        for row in page.locator("main table tbody tr").all():
            for cell in (row.locator("td").nth(4), row.locator("td").nth(5)):
                box = cell.bounding_box()
                assert box is not None and box["x"] + box["width"] <= PHONE, row.inner_text()
        page.goto(live_server.url + reverse("deliverables:my_work"))
        for card in page.locator("main .list-group-item").all():
            box = card.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE
    finally:
        context.close()


WHOLE_TEXT = """(select) => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const text = select.options[select.selectedIndex].text;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text, needs: Math.ceil(context.measureText(text).width), room,
          scroll: select.scrollWidth, client: select.clientWidth};
}"""


def test_filters_and_coverage_matrix_fit_a_desktop_in_japanese(live_server, browser, practices):  # noqa: F811
    manager = practices.people["manager"]
    role_assign(
        membership=membership_add(project=practices.project, user=manager, actor=manager),
        role=role("ml-engineer"),
    )
    # A team of seven: English headings fit, the Japanese share ("このプロジェクト") is wider.
    for first, last, slug in (
        ("Ben", "Okafor", "data-engineer"),
        ("Chen", "Wei", "devops-engineer"),
        ("Dana", "Whitfield", "ml-product-manager"),
        ("Emeka", "Nwosu", "engineering-manager"),
    ):
        person = UserFactory(username=first.lower(), first_name=first, last_name=last)
        role_assign(
            membership=membership_add(project=practices.project, user=person, actor=manager),
            role=role(slug),
            allocation_percent=50,
        )
    context = _context(browser, live_server, width=1280, language="ja")
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "manager")
        cut = []
        for url in (reverse("deliverables:list"), reverse("roles:project_list")):
            page.goto(live_server.url + url)
            assert page.locator("html").get_attribute("lang") == "ja"
            for select in page.locator("main form[role=search] select").all():
                fit = select.evaluate(WHOLE_TEXT)
                if fit["needs"] > fit["room"] or fit["scroll"] > fit["client"]:
                    cut.append((url, fit))
        assert not cut, cut

        page.goto(live_server.url + reverse("roles:project_detail", args=[practices.project.pk]))
        matrix = page.locator(".coverage-matrix")
        assert "Mari Kobayashi" in matrix.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        matrix.screenshot(path=str(ARTIFACTS / "coverage-matrix-ja-desktop.png"))
        assert matrix.evaluate("(box) => box.scrollWidth <= box.clientWidth"), matrix.evaluate(
            "(box) => [box.scrollWidth, box.clientWidth]"
        )

        # The team page's buttons keep their one-word Japanese labels ("ロールを割り当て")
        # on one line beside each person's role and allocation fields.
        page.goto(live_server.url + reverse("roles:project_team", args=[practices.project.pk]))
        assert page.evaluate(SPLIT_BUTTON_WORDS) == []
    finally:
        context.close()


def test_the_navigation_bar_never_runs_off_a_desktop(live_server, browser, practices):  # noqa: F811
    """An admin has the most links; Japanese words are the widest. From 1200 px the
    bar is a line of links: it may take a second line, never the page's width."""
    measure = """() => {
        const menu = document.querySelector('.mlt-navbar .dropdown-toggle').getBoundingClientRect();
        return {page: document.documentElement.scrollWidth, window: window.innerWidth,
                menu: Math.ceil(menu.right)};
    }"""
    for username in ("admin", "manager"):
        for language in ("en", "ja"):
            context = _context(browser, live_server, width=1200, language=language)
            page = context.new_page()
            try:
                sign_in(page, live_server.url, username)
                for width in (1200, 1280, 1440, 1920):
                    page.set_viewport_size({"width": width, "height": 800})
                    page.goto(f"{live_server.url}/")
                    seen = page.evaluate(measure)
                    where = (username, language, width, seen)
                    assert seen["page"] <= seen["window"], where
                    assert seen["menu"] <= seen["window"], where
            finally:
                context.close()
