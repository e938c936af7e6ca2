"""The public API's wiring (docs/api.md): authentication, permissions, throttles,
pagination, problem details, versions (ETag / If-Match) and the schema. The
resources themselves live with their apps (`roles/api.py`, `deliverables/api.py`),
registered by `mlteam/api/urls.py`; they read through the same querysets as the
pages (`visible_to`) and write through the same services."""
