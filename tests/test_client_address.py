"""Who the client is behind proxies (services/client_address.py): X-Forwarded-For and -Proto are
believed from CHAT_TRUSTED_PROXIES only, and every line of a repeated header counts."""

import ipaddress

from starlette.datastructures import Headers

from services.client_address import budget_address, client_address, is_https

PROXY = [ipaddress.ip_network("10.0.0.0/8")]


def headers(*lines: tuple[str, str]) -> Headers:
    return Headers(raw=[(name.encode(), value.encode()) for name, value in lines])


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_claims() -> None:
    claims = headers(("x-forwarded-for", "198.51.100.7"))
    assert client_address("203.0.113.5", claims, []) == "203.0.113.5"
    assert client_address("203.0.113.5", claims, PROXY) == "203.0.113.5"  # not a proxy of ours


def test_behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() -> None:
    # The client forged the first hop; our proxies appended what they saw.
    chain = headers(("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.3"))
    assert client_address("10.0.0.2", chain, PROXY) == "198.51.100.7"


def test_a_proxy_that_adds_its_own_header_line_cannot_be_bypassed_by_the_clients_line() -> None:
    forged_then_real = headers(("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "198.51.100.7"))
    assert client_address("10.0.0.2", forged_then_real, PROXY) == "198.51.100.7"


def test_an_ipv6_client_spends_the_budget_of_its_64_so_new_addresses_are_no_fresh_budget() -> None:
    assert budget_address("2001:db8:1:2:aaaa::1") == budget_address("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64"
    assert budget_address("2001:db8:1:3::1") != budget_address("2001:db8:1:2::1")
    assert budget_address("198.51.100.7") == "198.51.100.7"
    assert budget_address("::ffff:198.51.100.7") == "198.51.100.7"  # IPv4 on a dual-stack socket
    assert budget_address("unknown") == "unknown"


def test_https_is_believed_from_the_public_url_or_a_trusted_proxy_only() -> None:
    says_https = headers(("x-forwarded-proto", "https"))
    assert is_https("http", "10.0.0.2", says_https, PROXY, None)
    assert not is_https("http", "203.0.113.5", says_https, PROXY, None)
    assert is_https("http", "203.0.113.5", headers(), [], "https://chat.example.org")
