"""The networks requests come from: a coarse, keyed key for flood detection (``moderation.floods``), and the
address a per-address rate limit counts (``rate_limit_address``).

Votes and submissions record which network they came from, never the address: the IPv4 /24 or IPv6 /48 around
the address, hashed with a key (HMAC-SHA256 with ``NETWORK_KEY``, by default the site's secret key) and cut to
16 hexadecimal digits. Without the key a /24 could be found again by hashing all 16 million of them; with it, the
key only says "these requests came from one network". Behind a reverse proxy set ``TRUSTED_PROXIES`` (app.py),
or every request seems to come from the proxy's network.
"""
import hashlib
import hmac
import ipaddress

IPV4_PREFIX, IPV6_PREFIX = 24, 48
RATE_LIMIT_IPV6_PREFIX = 64
KEY_LENGTH = 16


def _ip(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address parsed (an IPv4-mapped IPv6 address as IPv4, a zone such as %eth0 dropped), or None."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ipaddress.ip_address(int(ip)) if ip.version == 6 else ip


def _network(ip, prefix: int) -> str:
    return str(ipaddress.ip_network((int(ip), prefix), strict=False))


def network_of(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network around ``address`` ("203.0.113.0/24"), or None if it is not one."""
    ip = _ip(address)
    if ip is None:
        return None
    return _network(ip, IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX)


def rate_limit_address(address: str | None) -> str:
    """What a per-address rate limit counts: an IPv4 address itself, but the /64 around an IPv6 address (one
    host, home or phone is usually given a whole /64 and can use any of its 2**64 addresses); "unknown" when
    there is no usable address."""
    ip = _ip(address)
    if ip is None:
        return "unknown"
    return str(ip) if ip.version == 4 else _network(ip, RATE_LIMIT_IPV6_PREFIX)


def network_key(address: str | None, key: str | bytes) -> str | None:
    """The stored key of the network around ``address``; None when the address is missing or malformed."""
    network = network_of(address)
    if network is None:
        return None
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"jianyan-network:{network}".encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def request_network_key(request, config) -> str | None:
    """The network key of a Flask request (``request.remote_addr``; see ``TRUSTED_PROXIES``)."""
    return network_key(request.remote_addr, config.get("NETWORK_KEY") or config["SECRET_KEY"])
