"""The reviews plug into the digests through the registry (deliverables never
imports them: tests/test_layering.py)."""

from __future__ import annotations

from deliverables import reminders
from deliverables.mentions import MentionDigestSection
from deliverables.reviews.reminders import ReviewDigestSection


def test_the_reviews_app_registers_its_digest_section():
    # Mentions in comments (deliverables' own section) come first, reviews after
    # (other apps' sections, such as failing artifacts, follow).
    assert [type(section) for section in reminders.digest_sections][:2] == [
        MentionDigestSection,
        ReviewDigestSection,
    ]


def test_old_admin_addresses_of_the_reviews_lead_to_their_new_app(client):
    response = client.get("/admin/deliverables/reviewcycle/3/change/?x=1")
    assert response.status_code == 301
    assert response["Location"] == "/admin/reviews/reviewcycle/3/change/?x=1"
    assert client.get("/admin/deliverables/review/")["Location"] == "/admin/reviews/review/"
    # Other deliverables admin pages are untouched.
    assert client.get("/admin/deliverables/deliverable/").status_code == 302  # sign in first
