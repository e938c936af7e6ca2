"""Signals other apps may listen to (a model card builder, say).

`model_version_changed(sender=ArtifactState, deliverable=..., link=..., old=..., new=...)`:
the MLflow model version a link resolves to (its alias's version, or the version
it names) differs from what the previous poll saw; `old` is None on the first
poll. Sent once per change, after the poll's transaction commits.
"""

from django.dispatch import Signal

model_version_changed = Signal()
