"""Who is on the other end: the client's address and whether it came over HTTPS.

Behind a load balancer every request comes from the proxy's address; the proxy names the real
client in X-Forwarded-For and the scheme in X-Forwarded-Proto. Anyone can send those headers, so
they are believed only from a proxy listed in CHAT_TRUSTED_PROXIES. Plain values in, so that the
API and the pages (which sit on different request objects) share one rule.
"""

import ipaddress
from collections.abc import Mapping, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _all_values(headers: Mapping[str, str], name: str) -> str:
    """Every line of a header, joined: a proxy may add its own X-Forwarded-For line instead of
    appending to the client's, and the first line alone would then be the client's to choose."""
    getlist = getattr(headers, "getlist", None)  # Starlette's Headers; a plain dict has one value
    return ",".join(getlist(name)) if getlist is not None else headers.get(name, "")


def client_address(peer: str | None, headers: Mapping[str, str], trusted: Sequence[Network]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address
    in X-Forwarded-For that is not itself a trusted proxy (walking from the right, as each proxy
    appends the address it saw)."""
    address = peer or "unknown"
    if not trusted or not _is_trusted(address, trusted):
        return address
    forwarded = [part.strip() for part in _all_values(headers, "x-forwarded-for").split(",") if part.strip()]
    for hop in reversed(forwarded):
        if not _is_trusted(hop, trusted):
            return hop
        address = hop
    return address


def budget_address(address: str) -> str:
    """What a per-address budget is kept for: the address itself, but for IPv6 its /64 network,
    since one host or home is usually handed a whole /64 and could otherwise take a new address,
    and a fresh budget, for every request."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # an IPv4 client on a dual-stack socket
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def is_https(
    scheme: str, peer: str | None, headers: Mapping[str, str], trusted: Sequence[Network], public_url: str | None
) -> bool:
    """Whether the browser reached us over HTTPS: the public URL says so, or the connection is
    TLS, or a trusted proxy says it terminated TLS."""
    if public_url is not None and public_url.startswith("https://"):
        return True
    if scheme in ("https", "wss"):
        return True
    if peer is not None and _is_trusted(peer, trusted):
        return headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"
    return False
