"""Identity's rules that need neither broker nor database."""

from datetime import date

import pytest

from shared.errors import TooManyAttempts
from services.gateway.throttle import AddressThrottle
from services.identity import activation, policy, throttle


@pytest.mark.parametrize(
    "password, reasons",
    [
        ("ngắn", ["too_short"]),
        ("x" * 129, ["too_long"]),
        ("x" * 64, []),  # 64 characters are allowed
        ("password", ["common"]),
        ("iloveyou", ["common"]),
        ("anhyeuem", ["common"]),  # the bundled Vietnamese list
        ("001000000002", ["citizen_id"]),
        ("0901000002", ["phone"]),
        ("+84 901 000 002", ["phone"]),
        ("19/05/1985", ["date_of_birth"]),
        ("1985-05-19", ["date_of_birth"]),
        ("19051985", ["date_of_birth"]),
        ("Đảng viên gương mẫu", []),
        ("trăng sáng quê hương", []),
    ],
)
def test_password_policy(password, reasons):
    assert policy.problems(password, "001000000002", "+84901000002", date(1985, 5, 19)) == reasons


def test_the_policy_counts_characters_after_nfc_normalisation():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Đảng ủy")  # 7 characters, more code points in NFD
    assert len(nfd) > 8
    assert policy.problems(nfd) == ["too_short"]


def test_the_common_list_holds_at_least_ten_thousand_passwords():
    assert len(policy.common_passwords()) >= 10_000


def test_the_delay_grows_after_five_failures_and_stops_at_fifteen_minutes():
    delays = [throttle.delay_after(n).total_seconds() for n in range(1, 13)]
    assert delays[:4] == [0, 0, 0, 0]
    assert delays[4:8] == [30, 60, 120, 240]
    assert max(delays) == 900 and delays[-1] == 900


def test_codes_are_six_digits_and_bound_to_their_challenge(tmp_path, monkeypatch):
    monkeypatch.setattr(activation, "_otp_key", b"k" * 32)
    codes = {activation.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150
    assert activation.code_hash("a", "123456") != activation.code_hash("b", "123456")
    assert "123456" not in activation.code_hash("a", "123456")


def test_a_masked_phone_shows_only_its_ends():
    assert activation.mask("+84912345678") == "+849******78"


def test_the_gateway_limits_attempts_per_client_address():
    now = [1000.0]
    limiter = AddressThrottle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        limiter.hit("203.0.113.7")
    with pytest.raises(TooManyAttempts) as refused:
        limiter.hit("203.0.113.7")
    assert refused.value.headers["Retry-After"] == "60"
    limiter.hit("198.51.100.1")  # another address is not affected
    now[0] += 61
    limiter.hit("203.0.113.7")  # the window moved on


def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy():
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from shared.http import client_address

    def request(remote, forwarded=None):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return Request(EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": remote}).get_environ())

    lb = {"10.0.0.5"}
    assert client_address(request("203.0.113.9", "1.2.3.4"), lb) == "203.0.113.9"  # not a proxy: ignored
    assert client_address(request("10.0.0.5", "1.2.3.4, 198.51.100.7"), lb) == "198.51.100.7"
    assert client_address(request("10.0.0.5", "198.51.100.7, 10.0.0.5"), lb) == "198.51.100.7"
    assert client_address(request("10.0.0.5"), lb) == "10.0.0.5"
