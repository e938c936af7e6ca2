"""Whether an outgoing address may be called: the one check, at save time and again
before every request (a name may resolve elsewhere by then).

An address must be http(s) (https when WEBHOOK_REQUIRE_HTTPS), carry no user
name or password, and every address its host resolves to must be public: not
private, loopback, link-local, reserved, multicast, unspecified, nor a cloud
metadata address, unless an admin allowed the host on that port
(`WebhookAllowedHost`: a bare host is its default port 443/80 only; even then
never a metadata address).
The request then goes to one of the addresses checked here (`Target.addresses`),
never to a fresh lookup, so a name cannot be re-pointed in between.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mlteam.cloud import METADATA_ADDRESSES

from .models import WebhookAllowedHost, default_port

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """A checked address: where to connect, and what to name in Host and TLS."""

    scheme: str
    host: str
    port: int
    path: str  # with the query string
    addresses: tuple[str, ...]


class UnsafeAddress(ValidationError):
    """The address may not be called (a ValidationError: forms show it as is)."""


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeAddress(
            _("The host %(host)s could not be found."), code="unresolved", params={"host": host}
        ) from error
    return list(dict.fromkeys(info[4][0] for info in infos))


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip in METADATA_ADDRESSES
        or not ip.is_global  # also the shared space 100.64.0.0/10 (is_private misses it)
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


# IPv6 prefixes whose last 32 bits are an IPv4 address that a translator (NAT64,
# SIIT) or the kernel (IPv4-compatible) may take the request to.
_LOW_32_BITS_IPV4 = [
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64's well-known prefix (RFC 6052)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT, RFC 7915)
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated)
]


def _carried_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (6to4, Teredo, NAT64, translated,
    compatible): each must pass the same checks as the address itself."""
    carried = [ip.sixtofour, *(ip.teredo or ())]
    if any(ip in network for network in _LOW_32_BITS_IPV4):
        carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [inner for inner in carried if inner is not None]


def _parsed(address: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address (without an IPv6 zone), then every IPv4 address it carries."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not isinstance(ip, ipaddress.IPv6Address):
        return [ip]
    if ip.ipv4_mapped is not None:  # an IPv4 address, written as IPv6: only it counts
        return [ip.ipv4_mapped]
    return [ip, *_carried_ipv4(ip)]


def is_metadata_address(address: str) -> bool:
    return any(ip in METADATA_ADDRESSES for ip in _parsed(address))


def is_forbidden_address(address: str) -> bool:
    return any(_forbidden(ip) for ip in _parsed(address))


def host_allowed(host: str, port: int, scheme: str) -> bool:
    return WebhookAllowedHost.objects.allowing(host=host, port=port, scheme=scheme).exists()


def check_url(url: str) -> Target:
    """The address as a `Target` whose every resolved address may be called, or
    `UnsafeAddress` saying why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeAddress(_("Enter a valid address."), code="invalid") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress(_("Enter an http or https address."), code="scheme")
    if scheme != "https" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise UnsafeAddress(_("The address must start with https://."), code="https")
    if parts.username or parts.password:
        raise UnsafeAddress(
            _("Leave the user name and password out of the address."), code="credentials"
        )
    host = parts.hostname.lower()
    port = port or default_port(scheme)
    addresses = _resolve(host, port)
    allowed = host_allowed(host, port, scheme)
    for address in addresses:
        # An admin's allowed host may be private, never the metadata service.
        if is_metadata_address(address) or (not allowed and is_forbidden_address(address)):
            # The address it resolved to goes to the log only: every member may try an
            # address (their own chat webhook), and the answer must not map the
            # internal network for them.
            logger.info("Refused %s: it resolves to %s", host, address)
            raise UnsafeAddress(
                _(
                    "%(host)s leads to a private, local or metadata address, which may not "
                    "be called. An admin can allow the host and its port."
                ),
                code="forbidden_address",
                params={"host": host},
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
