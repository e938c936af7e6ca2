"""Headless Chromium: a person opens their saved reminder settings, changes only the
hour, saves, and everything else is as it was (page, database, the digest plan)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from deliverables.models import ReminderPreference
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create
from tests.browser.test_layout import WHOLE_TEXT, _context
from tests.conftest import sign_in
from tests.factories import PASSWORD, UserFactory, deliverable_type, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SAVED = {
    "hour": 7,
    "time_zone": "Asia/Tokyo",
    "working_days": "0,1,2,3,4,5,6",
    "due_soon_days": 10,
    "paused_until": date(2026, 11, 1),
    "language": "ja",
}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def test_changing_the_hour_keeps_every_other_reminder_setting(live_server, page, capsys):
    person = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    ReminderPreference.objects.create(user=person, **SAVED)
    project = project_create(name="Churn prediction", managers=[manager_user()])
    membership_add(project=project, user=person)
    deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        title="Churn drivers report",
        owner=person,
        due_date=date(2026, 11, 20),
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("kenji")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome", exact=False).wait_for()
    page.goto(f"{live_server.url}/settings/reminders/")

    def assert_page_shows(hour: str) -> None:
        for day in DAYS:
            assert page.get_by_label(day, exact=True).is_checked(), day
        assert page.get_by_label("Send at").input_value() == hour
        assert page.get_by_label("Time zone").input_value() == "Asia/Tokyo"
        assert page.get_by_label("Due-soon window (days)").input_value() == "10"
        assert page.get_by_label("Pause until").input_value() == "2026-11-01"
        assert page.get_by_label("Email language").input_value() == "ja"

    assert_page_shows("7")
    page.get_by_label("Send at").select_option("8")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Reminder settings saved.").wait_for()
    assert_page_shows("8")

    preference = ReminderPreference.objects.get(user=person)
    assert {name: getattr(preference, name) for name in SAVED} == {**SAVED, "hour": 8}

    # 09:30 in Tokyo on a Monday: past the new hour, on a working day, after the pause.
    call_command("send_reminders", "--dry-run", "--now", "2026-11-30T00:30:00+00:00")
    out = capsys.readouterr().out
    assert "Kenji Ito <kenji@example.com> (2026-11-30, ja): 1 item" in out
    assert "Churn drivers report" in out


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_setting_shows_its_whole_choice_at_every_width(live_server, browser, language):
    """Each select shows its whole selected text: the email language's "Same as my
    interface language" was cut off beside the due-soon window on a desktop."""
    UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    for width in (1280, 992, 576, 390):
        context = _context(browser, live_server, width=width, language=language)
        page = context.new_page()
        try:
            sign_in(page, live_server.url, "kenji")
            page.goto(f"{live_server.url}/settings/reminders/")
            assert page.locator("html").get_attribute("lang") == language
            selects = page.locator("main form select").all()
            assert len(selects) == 2  # the hour and the email language
            fits = [select.evaluate(WHOLE_TEXT) for select in selects]
            cut = [f for f in fits if f["needs"] > f["room"] or f["scroll"] > f["client"]]
            assert not cut, (width, cut)
        finally:
            context.close()
