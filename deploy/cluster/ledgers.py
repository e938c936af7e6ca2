"""What the cluster's ledgers say after the load: digests, webhook and chat
deliveries, and the contested deliverables' titles.

    python -m deploy.cluster.ledgers '<json: contested ids, people, settle_seconds>'

Run by deploy/cluster/harness.py with the cluster's settings. It waits (up to
settle_seconds) until nothing is left to send: no digest or delivery pending,
being sent or waiting for a retry, and a digest for each person; then prints one
JSON object, with "settled" saying whether the wait ended that way.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

BUSY = {"pending", "sending", "failed", "handed_over"}


def ledgers(config: dict) -> dict:
    from deliverables.models import Deliverable, Digest
    from mlteam.notifications.channels.models import ChatDelivery
    from mlteam.notifications.models import WebhookDelivery

    # The database is the run's own: every digest in it is of this run.
    digests = list(Digest.objects.values("recipient_id", "status"))
    webhooks = list(
        WebhookDelivery.objects.values("event_id", "status", "attempts", "endpoint__url")
    )
    chats = list(ChatDelivery.objects.values("event_id", "status", "attempts", "channel__url"))
    return {
        "digest_status": dict(Counter(row["status"] for row in digests)),
        "digest_recipients": len({row["recipient_id"] for row in digests}),
        "digest_rows": len(digests),
        "webhook_status": dict(Counter(row["status"] for row in webhooks)),
        "webhook_sent": sorted(row["event_id"] for row in webhooks if row["status"] == "succeeded"),
        "chat_status": dict(Counter(row["status"] for row in chats)),
        "chat_sent_by_url": dict(
            Counter(row["channel__url"] for row in chats if row["status"] == "succeeded")
        ),
        "contested": {
            str(pk): title
            for pk, title in Deliverable.objects.filter(pk__in=config["contested"]).values_list(
                "pk", "title"
            )
        },
    }


def settled(state: dict, people: int) -> bool:
    waiting = sum(
        state[ledger].get(status, 0)
        for ledger in ("digest_status", "webhook_status", "chat_status")
        for status in BUSY
    )
    return waiting == 0 and state["digest_rows"] >= people


def main() -> None:
    import django

    django.setup()
    config = json.loads(sys.argv[1])
    deadline = time.monotonic() + config["settle_seconds"]
    state = ledgers(config)
    while not settled(state, config["people"]) and time.monotonic() < deadline:
        time.sleep(1)
        state = ledgers(config)
    print(json.dumps({**state, "settled": settled(state, config["people"])}))


if __name__ == "__main__":
    main()
