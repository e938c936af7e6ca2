"""Addresses where cloud providers' metadata services answer (instance credentials):
outgoing requests (webhooks, artifact polls) never go there."""

from __future__ import annotations

import ipaddress

# AWS, GCP and Azure: 169.254.169.254 (link-local); AWS over IPv6: fd00:ec2::254
# (a unique local address, not link-local).
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
    }
)
