"""Signals about deliverables that nested apps send and others listen to, defined
here in the lower room so that neither imports the other (deliverables.artifacts
sends, deliverables.cards listens: wired in the cards' AppConfig.ready).

`model_version_changed(sender=ArtifactState, deliverable=..., link=..., old=..., new=...)`:
the MLflow model version a link resolves to (its alias's version, or the version
it names) differs from what the previous poll saw; `old` is None on the first
poll. Sent once per change, inside the poll's transaction: receivers write in it
(so the version seen and what they wrote commit together), and should start any
side effect outside the database with `transaction.on_commit`. A receiver that
raises undoes the poll's record, and the change is seen again at the next poll.
"""

from django.dispatch import Signal

model_version_changed = Signal()
