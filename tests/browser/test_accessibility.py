"""axe-core on every main page, for a manager and a member, in English and Japanese;
and a focus ring that stands out (3:1) wherever the keyboard goes.

axe-core comes from npm (package.json devDependency) and is injected by Playwright
into the page under test only; the site never serves it. The site's CSP would
refuse an injected script, so these contexts bypass it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from deliverables.models import DeliverableStatus
from deliverables.reviews.services import review_access_record
from deliverables.services import (
    comment_add,
    comment_delete,
    comment_edit,
    deliverable_create,
    deliverable_transition,
)
from tests.conftest import goto_drawn, language_context, require, sign_in
from tests.factories import deliverable_type, manager_user
from tests.practices.conftest import practices, work_in_every_status  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0/2.1 A and AA. Every violation axe rates serious or critical fails the
# test, and color-contrast (text at least 4.5:1, large text 3:1) whatever its rating.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}
ALWAYS_FAILING = {"color-contrast"}

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 6).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def _context(browser, live_server, language: str):
    require(AXE.exists(), "node_modules/axe-core (npm install)")
    return language_context(browser, live_server, language, width=1280, height=900, bypass_csp=True)


def _violations(page, url: str) -> list[str]:
    response = goto_drawn(page, url)
    assert response is not None and response.status < 400, f"{url}: {response and response.status}"
    page.add_script_tag(path=str(AXE))
    found = []
    for violation in page.evaluate(RUN_AXE, AXE_TAGS):
        if violation["impact"] in FAILING_IMPACTS or violation["id"] in ALWAYS_FAILING:
            nodes = "\n      ".join(violation["nodes"])
            found.append(
                f"{url} [{violation['id']}, {violation['impact']}] {violation['help']}"
                f"\n      {nodes}"
            )
    return found


def _assert_accessible(page, base: str, paths: list[str]) -> None:
    problems = [line for path in paths for line in _violations(page, base + path)]
    assert not problems, "axe-core found:\n" + "\n".join(problems)


def _signed_in_pages(practices, *, manager: bool) -> list[str]:  # noqa: F811
    project = practices.project.pk
    pages = [
        reverse("home"),
        reverse("roles:project_list"),
        reverse("roles:project_detail", args=[project]),
        reverse("roles:project_activity", args=[project]),
        reverse("roles:portfolio_coverage"),
        reverse("roles:role_list"),
        reverse("roles:role_detail", args=["data-scientist"]),
        reverse("deliverables:list"),
        reverse("deliverables:detail", args=[practices.report.pk]),
        reverse("deliverables:my_work"),
        reverse("deliverables:project_board", args=[project]),
        reverse("roles:people_list"),
        reverse("deliverables:reminder_preferences"),
        reverse("practices:handbook", args=[project]),
        reverse("reviews:cycle_list"),
        reverse("reviews:cycle_detail", args=[practices.cycle.pk]),
        reverse("reviews:review_detail", args=[practices.review.pk]),
        reverse("password_change"),
        reverse("password_change_done"),
    ]
    if manager:
        pages += [
            reverse("roles:project_team", args=[project]),
            # The search for people to add: with matches, and with none.
            reverse("roles:project_team", args=[project]) + "?find=e",
            reverse("roles:project_team", args=[project]) + "?find=zzzz",
            # A cell of the team matrix, as a page of its own (without JavaScript).
            _team_cell(practices),
            reverse("deliverables:plan", args=[project]),
            reverse("deliverables:portfolio_dashboard"),
            reverse("deliverables:portfolio_activity"),  # as a page of its own (no JavaScript)
            reverse("deliverables:edit", args=[practices.report.pk]),
            reverse("deliverables:cancel", args=[practices.report.pk]),
        ]
    else:  # the person: every read of their review
        pages.append(reverse("reviews:review_reads", args=[practices.review.pk]))
    return pages


def _team_cell(practices) -> str:  # noqa: F811
    from roles.models import Membership, Role

    membership = Membership.objects.filter(project=practices.project).first()
    role = Role.objects.exclude(assignments__membership=membership).first()
    return reverse("roles:team_cell", args=[practices.project.pk, membership.pk, role.pk])


def _with_varied_statuses(practices) -> None:  # noqa: F811
    """Blocked, in-progress, overdue and cancelled work, so every badge, greyed row
    and warning shows (and a read of the review, so its person sees who read it)."""
    manager, person = practices.people["manager"], practices.people["person"]
    review_access_record(review=practices.review, reader=manager, parts=["expectations"])
    work_in_every_status(practices)
    today = timezone.localdate()
    dropped = deliverable_create(
        project=practices.project, type=deliverable_type("prd"), title="Old dashboard",
        owner=person, due_date=today - timedelta(days=3), actor=manager,
    )  # fmt: skip
    deliverable_transition(
        deliverable=dropped, actor=manager, to_status=DeliverableStatus.CANCELLED, version=None,
        reason="Replaced by the new **pricing** dashboard.",
    )  # fmt: skip


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("persona", ["manager", "person"])
def test_main_pages_pass_axe(live_server, browser, practices, persona, language):  # noqa: F811
    _with_varied_statuses(practices)
    context = _context(browser, live_server, language)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, persona)
        assert page.locator("html").get_attribute("lang") == language
        _assert_accessible(
            page, live_server.url, _signed_in_pages(practices, manager=persona == "manager")
        )
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("persona", ["manager", "person"])
def test_board_and_my_work_pass_axe(live_server, browser, practices, persona, language):  # noqa: F811
    """The project's board, the list and My work (as a list and as a board); a refused
    move too (its card drawn with the missing items, or the reason box)."""
    from django.contrib.auth import get_user_model

    from deliverables.services import work_view_remember

    _with_varied_statuses(practices)
    user = get_user_model().objects.get(username=persona)
    board = reverse("deliverables:project_board", args=[practices.project.pk])
    context = _context(browser, live_server, language)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, persona)
        # The list and My work draw their rows' inline edits (status, owner, due date).
        lists = [reverse("deliverables:list"), reverse("deliverables:my_work")]
        _assert_accessible(page, live_server.url, [board, *lists])
        work_view_remember(user=user, view="board")
        _assert_accessible(page, live_server.url, [reverse("deliverables:my_work")])
        page.goto(live_server.url + board)
        card = page.locator(".board-card:has(.board-move)").first
        card.locator("summary").click()
        # The person blocks without a reason; the manager asks for done too early.
        move = "blocked" if persona == "person" else "done"
        buttons = card.locator(f'.board-move-actions button[value="{move}"]')
        if buttons.count():
            buttons.first.click()  # blocked: opens the reason box first
            if move == "blocked":
                card.locator(".board-reason button").click()  # and no reason given
            page.locator(".board-refusal" if move == "done" else "textarea.is-invalid").wait_for()
        page.add_script_tag(path=str(AXE))
        problems = [
            f"{v['id']} {v['impact']} {v['help']} {v['nodes']}"
            for v in page.evaluate(RUN_AXE, AXE_TAGS)
            if v["impact"] in FAILING_IMPACTS or v["id"] in ALWAYS_FAILING
        ]
        assert not problems, "axe-core found on the board after a refused move:\n" + "\n".join(
            problems
        )
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_signed_out_pages_pass_axe(live_server, browser, language):
    context = _context(browser, live_server, language)
    page = context.new_page()
    try:
        _assert_accessible(
            page,
            live_server.url,
            [
                reverse("login"),
                reverse("password_reset"),
                reverse("password_reset_done"),
                reverse("password_reset_confirm", args=["MQ", "bad-token"]),
                reverse("password_reset_complete"),
            ],
        )
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_deliverable_pages_states_pass_axe(live_server, browser, practices, language):  # noqa: F811
    """The deliverable page in the states a visit brings: comments (markdown, a
    mention, one edited, one deleted), the author's comment drawn as a form, an item
    saved in place, and a move refused for want of a reason (its box open, the
    error next to it)."""
    manager, person = practices.people["manager"], practices.people["person"]
    report = practices.report
    comment_add(
        deliverable=report, actor=person, body=f"Draft is **up**; @{manager.username} please look."
    )
    edited = comment_add(deliverable=report, actor=manager, body="Numbers look off.")
    comment_edit(comment=edited, actor=manager, version=edited.version, body="Numbers look right.")
    gone = comment_add(deliverable=report, actor=manager, body="Wrong page.")
    comment_delete(comment=gone, actor=manager, version=gone.version)
    context = _context(browser, live_server, language)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "manager")
        url = reverse("deliverables:detail", args=[report.pk])
        _assert_accessible(page, live_server.url, [url, f"{url}?edit_comment={edited.pk}"])
        page.goto(live_server.url + url)
        item = report.checklist_items.filter(answer_kind="tick").first()
        page.locator(f"#id_item_{item.pk}").check()
        page.locator(f"#checklist-state-{item.pk} .checklist-saved").wait_for()
        page.locator("#status-form-blocked").locator("xpath=..").locator("summary").click()
        page.locator("#status-form-blocked button[type=submit]").click()
        page.locator("#id_reason_error").wait_for()
        page.add_script_tag(path=str(AXE))
        found = [
            f"{violation['id']} {violation['impact']}: {violation['nodes']}"
            for violation in page.evaluate(RUN_AXE, AXE_TAGS)
            if violation["impact"] in FAILING_IMPACTS or violation["id"] in ALWAYS_FAILING
        ]
        assert not found, found
    finally:
        context.close()


FOCUS_RING = """(el) => {
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parse = (color) => {
    const m = color.match(/rgba?\\(([^)]+)\\)/);
    const parts = m ? m[1].split(",").map((p) => parseFloat(p)) : [0, 0, 0, 0];
    return {rgb: parts.slice(0, 3), alpha: parts.length > 3 ? parts[3] : 1};
  };
  // What the ring is drawn over: the first ancestor with an opaque background.
  let node = el.parentElement;
  let background = {rgb: [255, 255, 255], alpha: 1};
  while (node) {
    const color = parse(getComputedStyle(node).backgroundColor);
    if (color.alpha >= 1) { background = color; break; }
    node = node.parentElement;
  }
  const style = getComputedStyle(el);
  const ring = parse(style.outlineColor);
  const [hi, lo] = [luminance(ring.rgb), luminance(background.rgb)].sort((a, b) => b - a);
  return {
    focusVisible: el.matches(":focus-visible"),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    alpha: ring.alpha,
    contrast: (hi + 0.05) / (lo + 0.05),
  };
}"""


@pytest.mark.parametrize(
    "selector",
    [
        ".navbar .nav-link.active",  # on the dark navbar
        ".navbar-brand",
        "main a[href]",  # a link in the page
        "main .btn",
        "footer select",
        "footer .btn",
    ],
)
def test_the_focus_ring_stands_out(live_server, page, manager, selector):
    sign_in(page, live_server.url, manager.username)
    page.goto(f"{live_server.url}{reverse('roles:project_list')}")
    target = page.locator(selector).first
    # Reach it with the keyboard, as a keyboard user would: Tab until it has focus.
    for _ in range(60):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            break
    ring = target.evaluate(FOCUS_RING)
    assert ring["focusVisible"], selector
    assert ring["style"] != "none" and ring["width"] >= 2 and ring["alpha"] == 1, ring
    assert ring["contrast"] >= 3, ring


@pytest.mark.parametrize("language", ["en", "ja"])
def test_portfolio_dashboard_passes_axe_on_a_phone_and_when_empty(
    live_server,
    browser,
    practices,  # noqa: F811
    language,
):
    """The dashboard's phone layout (tables stacked as cards, each value labelled by
    its column) and its empty states (a manager with no project yet)."""
    _with_varied_statuses(practices)
    manager_user(username="new_manager")
    for username, width in (("manager", 390), ("new_manager", 390), ("new_manager", 1280)):
        context = _context(browser, live_server, language)
        page = context.new_page()
        try:
            page.set_viewport_size({"width": width, "height": 844})
            sign_in(page, live_server.url, username)
            _assert_accessible(page, live_server.url, [reverse("deliverables:portfolio_dashboard")])
            empty = page.locator("main .empty-state").count()
            assert empty >= 1 if username == "new_manager" else empty == 0
        finally:
            context.close()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_team_matrix_with_a_cell_editor_open_passes_axe(
    live_server,
    browser,
    practices,  # noqa: F811
    language,
):
    context = _context(browser, live_server, language)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "manager")
        page.goto(live_server.url + reverse("roles:project_team", args=[practices.project.pk]))
        page.locator("#team-matrix a[data-cell]").first.click()
        page.locator("dialog#cell-editor[open] form").wait_for()
        page.add_script_tag(path=str(AXE))
        found = [
            f"[{v['id']}, {v['impact']}] {v['help']}\n      " + "\n      ".join(v["nodes"])
            for v in page.evaluate(RUN_AXE, AXE_TAGS)
            if v["impact"] in FAILING_IMPACTS or v["id"] in ALWAYS_FAILING
        ]
        assert not found, "axe-core found:\n" + "\n".join(found)
    finally:
        context.close()
