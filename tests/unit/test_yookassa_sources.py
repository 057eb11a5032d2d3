"""YooKassa's trusted notification sources (checkout-and-payments.md §10.6): CIDRs and single addresses, IPv4 and
IPv6, an IPv4-mapped IPv6 address counted as its IPv4 address; YooKassa's published ranges by default."""

from __future__ import annotations

import pytest

from chalicelib.payments.hosted import YOOKASSA_NOTIFICATION_SOURCES
from chalicelib.payments.yookassa.provider import _trusted


@pytest.mark.parametrize(
    "source",
    [
        "185.71.76.0",
        "185.71.76.31",
        "185.71.77.17",
        "77.75.153.127",
        "77.75.156.11",
        "77.75.156.35",
        "77.75.154.200",
        "2a02:5180::1",
        "2a02:5180:ffff::42",
        "::ffff:185.71.76.5",
        " 77.75.156.11 ",
    ],
)
def test_published_sources_are_trusted(source: str) -> None:
    assert _trusted(source, YOOKASSA_NOTIFICATION_SOURCES)


@pytest.mark.parametrize(
    "source",
    [
        "185.71.76.32",
        "77.75.153.128",
        "77.75.156.12",
        "77.75.154.127",
        "2a02:5181::1",
        "::ffff:8.8.8.8",
        "127.0.0.1",
        "::1",
        "8.8.8.8",
        "",
        None,
        "localhost",
        "185.71.76.0/27",
    ],
)
def test_other_sources_are_not(source: str | None) -> None:
    assert not _trusted(source, YOOKASSA_NOTIFICATION_SOURCES)


def test_configured_lists_may_be_a_string_and_skip_bad_entries() -> None:
    assert _trusted("10.1.2.3", "bogus, 10.0.0.0/8")
    assert _trusted("::1", ["not-a-network", "::1"])
    assert not _trusted("10.1.2.3", [])
    assert not _trusted("::ffff:10.1.2.3", ["::ffff:10.0.0.0/104"])  # mapped addresses are compared as IPv4
