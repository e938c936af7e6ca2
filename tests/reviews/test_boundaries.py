"""The reviews plug into the digests through the registry (deliverables never
imports them: tests/test_layering.py)."""

from __future__ import annotations

from deliverables import reminders
from deliverables.reviews.reminders import ReviewDigestSection


def test_the_reviews_app_registers_its_digest_section():
    assert [type(section) for section in reminders.digest_sections] == [ReviewDigestSection]
