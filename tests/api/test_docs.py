"""The API's documentation: README's webhook example really verifies a signed
delivery (and refuses an altered one), and docs/api.md keeps the sections the
other parts of the API fill in."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from standardwebhooks import Webhook

README = Path(settings.BASE_DIR) / "README.md"
GUIDE = Path(settings.BASE_DIR) / "docs" / "api.md"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _readme_python_example() -> str:
    section = README.read_text().split("## API and webhooks", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    return code


def test_the_readme_example_verifies_a_signed_delivery_and_refuses_an_altered_one():
    namespace: dict = {}
    exec(_readme_python_example(), namespace)  # noqa: S102 (our own README)
    verified_event = namespace["verified_event"]
    body = b'{"type": "deliverable.status_changed", "data": {"id": 42}}'
    now = datetime.now(tz=UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("msg_1", now, body.decode()),
    }
    assert verified_event(body, headers, SECRET) == {
        "type": "deliverable.status_changed",
        "data": {"id": 42},
    }
    assert verified_event(body.replace(b"42", b"43"), headers, SECRET) is None
    assert verified_event(body, {**headers, "webhook-id": "msg_2"}, SECRET) is None


def test_the_guide_has_its_sections_and_is_linked_from_the_readme():
    headings = re.findall(r"^## (.+)$", GUIDE.read_text(), re.MULTILINE)
    for heading in (
        "Authentication",
        "Personal tokens",
        "Rate limits",
        "Versions: ETag, If-Match and 412",
        "Problem details",
        "Pagination",
        "Filtering deliverables",
        "Examples",
        "Webhooks",
    ):
        assert heading in headings
    assert "(docs/api.md)" in README.read_text()
