import pytest

from service.compose.price import babel_locale, discount_percent, format_discount, format_price


@pytest.mark.parametrize("amount,currency,locale,expected", [
    (39.9, "EUR", "de-DE", "39,90\xa0€"),
    (12800, "JPY", "ja-JP", "￥12,800"),
    (39.9, "CNY", "zh-CN", "¥39.90"),
    (39.9, "USD", "en-US", "$39.90"),
    (1234.5, "EUR", "fr-FR", "1\u202f234,50\xa0€"),
])
def test_babel_formats_for_the_locale(amount, currency, locale, expected):
    assert format_price(amount, currency, locale) == expected


def test_jpy_has_no_decimals_and_bad_input_degrades():
    assert "." not in format_price(999.0, "JPY", "ja-JP")
    assert format_price(5, None, "de-DE") == "5,00"
    assert format_price(5, "usd", "not a locale") == "$5.00"
    assert babel_locale("zh-Hans-CN").language == "zh"


@pytest.mark.parametrize("price,orig,pct", [(40, 60, 33), (39.9, 59.9, 33), (10, 10, None), (12, 10, None),
                                            (5, None, None), (0, 10, 100), (10, 0, None)])
def test_discount(price, orig, pct):
    assert discount_percent(price, orig) == pct


def test_discount_label_is_localised():
    assert format_discount(33, "en-US") == "-33%"
    assert format_discount(33, "de-DE") == "-33\xa0%"
