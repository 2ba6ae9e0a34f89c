"""Country signals: which dollar "$" is and which way round "05/01/2026" reads."""

from __future__ import annotations

from policy_ray.core.country import country_signals, date_order_of, dollar_currency


def test_addresses_name_the_country() -> None:
    assert country_signals("400 Main St, Springfield, IL 62701") == {"US"}
    assert country_signals("88 Front St W, Toronto, ON M5J 2X2") == {"CA"}
    assert country_signals("12 George St, Sydney NSW 2000") == {"AU"}
    assert country_signals("1 High Street, London SW1A 1AA") == {"GB"}
    assert country_signals("Premium $500") == frozenset()


def test_policy_wording_that_names_countries_in_passing_is_no_signal() -> None:
    assert country_signals("the United States of America, its territories and possessions, Puerto Rico and Canada") \
        == frozenset()


def test_the_dollar_and_the_date_order_follow_the_country() -> None:
    assert dollar_currency(frozenset()) == "USD"
    assert dollar_currency(frozenset({"US"})) == "USD"
    assert dollar_currency(frozenset({"CA"})) == "CAD"
    assert dollar_currency(frozenset({"AU"})) == "AUD"
    assert dollar_currency(frozenset({"US", "CA"})) is None
    assert dollar_currency(frozenset({"GB"})) is None  # "$" on a British document: no idea
    assert date_order_of(frozenset({"US"})) is False
    assert date_order_of(frozenset({"AU"})) is True
    assert date_order_of(frozenset({"CA"})) is None  # Canada writes both
    assert date_order_of(frozenset()) is None
