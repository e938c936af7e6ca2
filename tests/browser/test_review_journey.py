"""Headless Chromium: a manager sets expectations, the member acknowledges them;
a script typed into the handbook is shown as text and never runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliverables.reviews import services as practices_services
from deliverables.reviews.models import Review
from deliverables.services import ChecklistAnswer, checklist_update, deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _sign_out(page):
    page.context.clear_cookies()


def test_manager_sets_expectations_and_the_member_acknowledges(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    member = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn prediction", managers=[manager], actor=manager)
    role_assign(
        membership=membership_add(project=project, user=member, actor=manager),
        role=role("ml-engineer"),
    )
    deliverable_create(
        project=project,
        type=deliverable_type("deployed-model"),
        title="Churn model in production",
        owner=member,
        actor=manager,
    )
    today = timezone.localdate()
    practices_services.cycle_create(
        actor=manager,
        name="First half",
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=170),
        expectations_due_days=14,
    )

    sign_in(page, live_server.url, "mari")
    page.get_by_role("link", name="Reviews", exact=True).click()
    page.get_by_role("link", name="First half").click()
    row = page.locator("tr", has_text="Kenji Ito")
    assert "No expectations yet" in row.inner_text()
    row.get_by_role("link", name="Write expectations").click()
    page.get_by_label("What you expect").fill(
        "- Put the churn model **in production** with monitoring.\n- Keep the handbook current."
    )
    page.get_by_label("Churn model in production (Churn prediction)").check()
    page.get_by_role("button", name="Save expectations").click()
    page.get_by_text("Expectations saved.").wait_for()
    assert page.locator("strong", has_text="in production").count() == 1
    assert "Waiting for Kenji Ito to acknowledge." in page.content()
    _sign_out(page)

    sign_in(page, live_server.url, "kenji")
    page.get_by_role("link", name="Reviews", exact=True).click()
    page.get_by_role("link", name="First half").click()
    page.get_by_role("link", name="From Mari Kobayashi").click()
    page.get_by_role("heading", name="Your review", exact=True).wait_for()
    assert page.get_by_role("link", name="Churn model in production").count() == 1
    page.get_by_role("button", name="I have read these expectations").click()
    page.get_by_text("You acknowledged the expectations.").wait_for()
    assert "Kenji Ito acknowledged these expectations" in page.content()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "review-phone.png"), full_page=True)

    review = Review.objects.get(person=member)
    assert review.expectations_acknowledged_at is not None
    assert review.manager == manager


def test_a_script_in_a_handbook_answer_does_not_run(live_server, page):
    manager = manager_user(username="mari")
    project = project_create(name="Churn prediction", managers=[manager], actor=manager)
    membership_add(project=project, user=manager, actor=manager)
    handbook = deliverable_create(
        project=project,
        type=deliverable_type("process-documentation"),
        title="Team handbook",
        owner=manager,
        actor=manager,
    )
    item = handbook.checklist_items.get(text="Who do I contact when I am stuck, and how?")
    checklist_update(
        deliverable=handbook,
        actor=manager,
        version=None,
        answers={
            item.pk: ChecklistAnswer(
                answer='Ask in #churn.<script>document.title="pwned"</script>'
                "<img src=x onerror=\"document.title='pwned'\">"
            )
        },
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "mari")
    for path in ("handbook", "handbook/newcomer"):
        page.goto(f"{live_server.url}/projects/{project.pk}/{path}/")
        page.get_by_text("Ask in #churn.", exact=False).first.wait_for()
        assert page.title() != "pwned"
        assert page.locator(".handbook-answer script, .handbook-answer img").count() == 0
    page.set_viewport_size({"width": 390, "height": 844})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "handbook-newcomer-phone.png"), full_page=True)
    assert errors == []
