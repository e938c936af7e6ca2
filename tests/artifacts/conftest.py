from __future__ import annotations

from tests.deliverables.conftest import work  # noqa: F401 (fixture)
from tests.roles.conftest import world  # noqa: F401 (fixture)
