"""Transport behaviour: clock sync, bounded retries, never-retried orders, the one timestamp retry, bad bodies."""

from __future__ import annotations

import http.client
import json
import logging
from decimal import Decimal
from typing import Any

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from exchanges.base import Credentials, PositionMode, Side
from exchanges.bingx import BingXClient
from exchanges.bybit import BybitClient
from exchanges.errors import (
    ClockSkewError,
    ExchangeError,
    ExchangeUnavailable,
    InvalidRequest,
    MalformedResponse,
    RateLimited,
    UnknownOutcome,
)
from exchanges.transport import POOL_MAXSIZE, wait_from_header

from .conftest import (
    API_KEY,
    API_SECRET,
    BINGX_URL,
    BYBIT_URL,
    NOW,
    NOW_MS,
    bingx_err,
    bingx_ok,
    bybit_err,
    bybit_instrument,
    bybit_ok,
    calls_to,
)

BYBIT_TIME = f"{BYBIT_URL}/v5/market/time"
BYBIT_ORDER = f"{BYBIT_URL}/v5/order/create"
BINGX_ORDER = f"{BINGX_URL}/openApi/swap/v2/trade/order"
BINGX_TIME = f"{BINGX_URL}/openApi/swap/v2/server/time"


def _order(client: Any) -> Any:
    return client.place_market_order(
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal("0.01"),
        client_order_id="arb-1",
        position_mode=PositionMode.ONE_WAY,
    )


def test_session_pool_and_no_urllib3_retries(bybit) -> None:
    """The session pools at least 32 keep-alive connections and urllib3 never retries by itself."""
    adapter = bybit.transport.session.get_adapter("https://x")
    assert adapter._pool_maxsize >= POOL_MAXSIZE >= 32
    assert adapter.max_retries.total == 0
    assert adapter.max_retries.read is False


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"HTTPS_PROXY": "http://egress:3128"}, {"https": "http://egress:3128"}),
        ({"HTTPS_PROXY": "http://egress:3128", "NO_PROXY": "api.bybit.com"}, {}),
        ({}, {}),
    ],
    ids=["proxied", "bypassed", "direct"],
)
def test_environment_proxies_are_resolved_once_for_the_venue(monkeypatch, environment, expected) -> None:
    """HTTPS_PROXY and NO_PROXY still apply, resolved when the client is made rather than on every request."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    session = BybitClient(None, base_url="https://api.bybit.com").transport.session
    assert session.trust_env is False
    assert {k: v for k, v in session.proxies.items() if k == "https"} == expected


def test_timeouts_are_connect_and_read(mocked) -> None:
    """Requests carry the configured (connect, read) timeout."""
    client = BybitClient(None, base_url=BYBIT_URL, timeout=(1.5, 7))
    mocked.get(BYBIT_TIME, json=bybit_ok({"timeNano": str(NOW_MS * 10**6)}))
    client.server_time()
    assert mocked.calls[0].request.req_kwargs["timeout"] == (1.5, 7)


def test_sync_clock_keeps_smallest_round_trip(mocked) -> None:
    """sync_clock corrects by half the round trip and keeps the sample with the smallest one."""
    state = {"t": NOW}
    true_offset = 5.0
    # (delay before the server reads its clock, delay after): only the symmetric sample is exact.
    legs = iter([(0.4, 0.0), (0.05, 0.05), (0.3, 0.0)])

    def answer(request):
        before, after = next(legs)
        state["t"] += before
        server_ms = int(round((state["t"] + true_offset) * 1000))
        state["t"] += after
        return 200, {}, json.dumps(bingx_ok({"serverTime": server_ms}))

    mocked.add_callback("GET", BINGX_TIME, callback=answer)
    client = BingXClient(None, base_url=BINGX_URL, clock=lambda: state["t"])
    result = client.sync_clock(samples=3)
    assert result.samples == 3
    assert result.round_trip == pytest.approx(0.1)
    assert result.offset == pytest.approx(true_offset, abs=0.002)
    assert client.exchange_now().timestamp() == pytest.approx(state["t"] + true_offset, abs=0.002)
    assert len(mocked.calls) == 3


def test_bybit_sync_uses_time_nano(mocked) -> None:
    """Bybit's offset comes from timeNano."""
    mocked.get(BYBIT_TIME, json=bybit_ok({"timeSecond": "1700000012", "timeNano": str((NOW_MS + 12_345) * 10**6)}))
    client = BybitClient(None, base_url=BYBIT_URL, clock=lambda: NOW)
    assert client.sync_clock(samples=1).offset == pytest.approx(12.345)


def test_reads_retry_transient_failures(mocked, bybit, sleeps) -> None:
    """A read retries 5xx and connection errors with bounded, capped backoff, then succeeds."""
    mocked.get(BYBIT_TIME, body="<html>502</html>", status=502)
    mocked.get(BYBIT_TIME, body=requests.ConnectionError("reset"))
    mocked.get(BYBIT_TIME, json=bybit_ok({"timeNano": str(NOW_MS * 10**6)}))
    bybit.server_time()
    assert len(mocked.calls) == 3
    assert len(sleeps) == 2 and all(0 < wait <= 2.0 for wait in sleeps)


def test_reads_retry_a_truncated_body(mocked, bybit, sleeps) -> None:
    """One garbled answer to a read is transient like a 5xx: retried, then the read succeeds."""
    mocked.get(BYBIT_TIME, body='{"retCode": 0, "result": {"timeNa', status=200)
    mocked.get(BYBIT_TIME, json=bybit_ok({"timeNano": str(NOW_MS * 10**6)}))
    bybit.server_time()
    assert len(mocked.calls) == 2 and len(sleeps) == 1


def test_a_truncated_order_answer_is_never_resent(mocked, bybit, sleeps) -> None:
    """A garbled answer to an order is an unknown outcome: exactly one POST, no retry."""
    mocked.post(BYBIT_ORDER, body='{"retCode": 0, "result": {"orderId": "ab', status=200)
    with pytest.raises(UnknownOutcome):
        _order(bybit)
    assert len(calls_to(mocked, "/v5/order/create")) == 1 and sleeps == []


def test_reads_give_up_after_the_attempt_budget(mocked, bybit, sleeps) -> None:
    """A read that keeps failing stops after three attempts with ExchangeUnavailable."""
    mocked.get(BYBIT_TIME, body="busy", status=503)
    with pytest.raises(ExchangeUnavailable, match="Bybit server time failed: the venue answered HTTP 503"):
        bybit.server_time()
    assert len(mocked.calls) == 3 and len(sleeps) == 2


@pytest.mark.parametrize(("reset_offset_ms", "expected_wait"), [(1500, 1.5), (60_000, 2.0)], ids=["honoured", "capped"])
def test_rate_limit_honours_reset_header_capped(mocked, bybit, sleeps, reset_offset_ms, expected_wait) -> None:
    """Bybit 10006 waits until X-Bapi-Limit-Reset-Timestamp, never more than 2 s, and reports retry_after."""
    headers = {"X-Bapi-Limit-Reset-Timestamp": str(NOW_MS + reset_offset_ms)}
    mocked.get(f"{BYBIT_URL}/v5/account/wallet-balance", json=bybit_err(10006, "Too many visits!"), headers=headers)
    with pytest.raises(RateLimited) as caught:
        bybit.balance()
    assert sleeps == [pytest.approx(expected_wait)] * 2
    assert caught.value.retry_after == pytest.approx(expected_wait)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (str(NOW_MS + 1200), 1.2),
        (str(int(NOW) + 3), 3.0),
        ("1500", 1.5),
        ("2", 2.0),
        ("soon", None),
        ("-1", None),
        (None, None),
    ],
)
def test_rate_limit_header_parsing(raw, expected) -> None:
    """Rate-limit headers parse as epoch ms, epoch s, relative ms or seconds; junk gives None."""
    assert wait_from_header(raw, now=NOW) == (pytest.approx(expected) if expected is not None else None)


def test_bingx_rate_limit_expire_header(mocked, bingx, sleeps) -> None:
    """BingX 429 retry waits follow X-RateLimit-Requests-Expire, capped at 2 s."""
    mocked.get(
        f"{BINGX_URL}/openApi/swap/v3/user/balance", status=429, body="", headers={"X-RateLimit-Requests-Expire": "800"}
    )
    with pytest.raises(RateLimited, match="BingX balance failed"):
        bingx.balance()
    assert sleeps == [pytest.approx(2.0), pytest.approx(2.0)]


def test_ip_ban_is_not_retried(mocked, bybit, sleeps) -> None:
    """HTTP 403 'access too frequent' is an IP ban: raised at once, not retried."""
    mocked.get(f"{BYBIT_URL}/v5/account/wallet-balance", status=403, body="access too frequent")
    with pytest.raises(RateLimited):
        bybit.balance()
    assert len(mocked.calls) == 1 and sleeps == []


def test_set_leverage_is_retried_as_idempotent(mocked, bybit, sleeps) -> None:
    """Set leverage is idempotent, so a dropped connection is retried."""
    mocked.get(f"{BYBIT_URL}/v5/market/instruments-info", json=bybit_ok({"list": [bybit_instrument()]}))
    mocked.post(f"{BYBIT_URL}/v5/position/set-leverage", body=requests.ReadTimeout("slow"))
    mocked.post(f"{BYBIT_URL}/v5/position/set-leverage", json=bybit_ok({}))
    bybit.set_leverage("BTCUSDT", 3, position_mode=PositionMode.ONE_WAY)
    assert len(calls_to(mocked, "/v5/position/set-leverage")) == 2


def _dropped() -> requests.ConnectionError:
    return requests.ConnectionError(ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed")))


def _refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/v5/order/create", reason=reason))


MAYBE_SENT = {
    "http-500": {"status": 500, "body": "<html>500</html>"},
    "http-502": {"status": 502, "body": "bad gateway"},
    "http-504": {"status": 504, "body": "<html>504 Gateway Time-out</html>"},
    "read-timeout": {"body": requests.ReadTimeout("read timed out")},
    "dropped": {"body": _dropped()},
    "html-200": {"status": 200, "body": "<html>maintenance</html>"},
}


@pytest.mark.parametrize("venue", ["bybit", "bingx"])
@pytest.mark.parametrize("failure", sorted(MAYBE_SENT))
def test_orders_are_never_retried_on_unknown_outcome(mocked, bybit, bingx, sleeps, venue, failure) -> None:
    """Timeouts, drops, 5xx and unreadable answers on an order raise UnknownOutcome after exactly one POST."""
    client, url = (bybit, BYBIT_ORDER) if venue == "bybit" else (bingx, BINGX_ORDER)
    mocked.post(url, **MAYBE_SENT[failure])
    with pytest.raises(UnknownOutcome, match="place order failed") as caught:
        _order(client)
    assert "look" in caught.value.hint and "client order id" in caught.value.hint
    assert len(mocked.calls) == 1 and sleeps == []


@pytest.mark.parametrize("venue", ["bybit", "bingx"])
@pytest.mark.parametrize(
    "error", [requests.ConnectTimeout("connect timed out"), _refused()], ids=["timeout", "refused"]
)
def test_order_connect_failure_is_unavailable(mocked, bybit, bingx, sleeps, venue, error) -> None:
    """A connect failure means nothing was sent: ExchangeUnavailable, still not retried."""
    client, url = (bybit, BYBIT_ORDER) if venue == "bybit" else (bingx, BINGX_ORDER)
    mocked.post(url, body=error)
    with pytest.raises(ExchangeUnavailable, match="nothing was sent"):
        _order(client)
    assert len(mocked.calls) == 1 and sleeps == []


@pytest.mark.parametrize("venue", ["bybit", "bingx"])
def test_order_rate_limited_is_not_retried(mocked, bybit, bingx, sleeps, venue) -> None:
    """A rate-limited order is rejected by the venue and raised, never resent."""
    client, url, body = (
        (bybit, BYBIT_ORDER, bybit_err(10006, "Too many visits!"))
        if venue == "bybit"
        else (bingx, BINGX_ORDER, bingx_err(100410, "rate limited"))
    )
    mocked.post(url, json=body)
    with pytest.raises(RateLimited):
        _order(client)
    assert len(mocked.calls) == 1 and sleeps == []


def test_accepted_order_without_id_is_unknown_outcome(mocked, bybit) -> None:
    """retCode 0 without an orderId means the order exists but is unreadable: UnknownOutcome, look it up."""
    mocked.post(BYBIT_ORDER, json=bybit_ok({"orderLinkId": "arb-1"}))
    with pytest.raises(UnknownOutcome, match="orderId"):
        _order(bybit)


def test_bybit_timestamp_rejection_resyncs_and_retries_once(mocked, bybit) -> None:
    """Bybit 10002 on an order: the clock is re-measured and a freshly signed order sent once more."""
    mocked.post(BYBIT_ORDER, json=bybit_err(10002, "invalid request, please check your server timestamp"))
    mocked.post(BYBIT_ORDER, json=bybit_ok({"orderId": "42", "orderLinkId": "arb-1"}))
    mocked.get(BYBIT_TIME, json=bybit_ok({"timeNano": str((NOW_MS + 10_000) * 10**6)}))
    assert _order(bybit).exchange_order_id == "42"
    posts = calls_to(mocked, "/v5/order/create")
    assert len(posts) == 2
    assert len(calls_to(mocked, "/v5/market/time")) == 3
    assert posts[0].request.headers["X-BAPI-TIMESTAMP"] == str(NOW_MS)
    assert posts[1].request.headers["X-BAPI-TIMESTAMP"] == str(NOW_MS + 10_000)
    assert posts[0].request.headers["X-BAPI-SIGN"] != posts[1].request.headers["X-BAPI-SIGN"]


@pytest.mark.parametrize("venue", ["bybit", "bingx"])
def test_timestamp_rejection_twice_is_clock_skew(mocked, bybit, bingx, venue) -> None:
    """A second timestamp rejection raises ClockSkewError; at most two order requests are ever sent."""
    if venue == "bybit":
        client, url, path = bybit, BYBIT_ORDER, "/v5/order/create"
        mocked.post(url, json=bybit_err(10002, "req_timestamp[1] server_timestamp[2]"))
        mocked.get(BYBIT_TIME, json=bybit_ok({"timeNano": str(NOW_MS * 10**6)}))
    else:
        client, url, path = bingx, BINGX_ORDER, "/openApi/swap/v2/trade/order"
        mocked.post(url, json=bingx_err(100421, "Null timestamp or timestamp mismatch"))
        mocked.get(BINGX_TIME, json=bingx_ok({"serverTime": NOW_MS}))
    with pytest.raises(ClockSkewError, match="place order failed"):
        _order(client)
    assert len(calls_to(mocked, path)) == 2


def test_bingx_timestamp_rejection_resyncs_and_retries_once(mocked, bingx) -> None:
    """BingX 100421: re-measure the clock, send once more with the corrected timestamp."""
    mocked.post(BINGX_ORDER, json=bingx_err(100421, "timestamp mismatch"))
    mocked.post(BINGX_ORDER, json=bingx_ok({"order": {"orderId": 7}}))
    mocked.get(BINGX_TIME, json=bingx_ok({"serverTime": NOW_MS - 7_000}))
    assert _order(bingx).exchange_order_id == "7"
    posts = calls_to(mocked, "/openApi/swap/v2/trade/order")
    assert len(posts) == 2
    assert f"timestamp={NOW_MS - 7_000}&" in posts[1].request.url


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("<!DOCTYPE html><html><body>Cloudflare</body></html>", 200),
        ("not json at all", 200),
        ('{"retCode": 0, "retMsg": "OK"}', 200),
        ('{"retCode": 0, "result": {"timeSecond": "1"}}', 200),
        ("[1, 2, 3]", 200),
        ('{"unexpected": true}', 200),
        ("", 200),
    ],
)
def test_malformed_bodies(mocked, bybit, body, status) -> None:
    """HTML, non-JSON, non-envelope or incomplete bodies raise MalformedResponse, never KeyError/JSONDecodeError."""
    mocked.get(BYBIT_TIME, body=body, status=status)
    with pytest.raises(MalformedResponse, match="Bybit server time failed"):
        bybit.server_time()


@pytest.mark.parametrize(
    "body",
    ['{"code":0,"msg":"","data":null}', '{"code":0,"data":[{"asset":"USDT","balance":"x1"}]}', "<html></html>"],
)
def test_bingx_malformed_bodies(mocked, bingx, body) -> None:
    """BingX envelopes missing data or with unreadable numbers raise MalformedResponse."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v3/user/balance", body=body)
    with pytest.raises(MalformedResponse, match="BingX balance failed"):
        bingx.balance()


def test_html_5xx_is_unavailable_not_malformed(mocked, bingx) -> None:
    """An HTML 5xx page on a read is ExchangeUnavailable."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v3/user/balance", body="<html>503</html>", status=503)
    with pytest.raises(ExchangeUnavailable):
        bingx.balance()


def test_request_log_line(mocked, bybit, caplog) -> None:
    """Each request logs method, path, params, HTTP status, venue code and duration."""
    caplog.set_level(logging.DEBUG, logger="exchanges.bybit")
    mocked.get(f"{BYBIT_URL}/v5/position/list", json=bybit_ok({"list": [{"positionIdx": 0, "symbol": "BTCUSDT"}]}))
    bybit.position_mode("BTCUSDT")
    (record,) = [r for r in caplog.records if r.name == "exchanges.bybit"]
    line = record.getMessage()
    assert line.startswith("Bybit GET /v5/position/list params={'category': 'linear', 'symbol': 'BTCUSDT'}")
    assert "status=200 code=0" in line and line.endswith("ms")


def test_custom_logger_is_used(mocked, caplog) -> None:
    """A logger passed to the constructor receives the request lines."""
    logger = logging.getLogger("fundarb.test.custom")
    caplog.set_level(logging.DEBUG, logger=logger.name)
    client = BingXClient(Credentials(API_KEY, API_SECRET), base_url=BINGX_URL, logger=logger)
    mocked.get(BINGX_TIME, json=bingx_ok({"serverTime": NOW_MS}))
    client.server_time()
    assert any(r.name == logger.name and "GET /openApi/swap/v2/server/time" in r.getMessage() for r in caplog.records)


def test_error_log_is_warning(mocked, bingx, caplog) -> None:
    """A venue rejection is logged at WARNING with its code."""
    caplog.set_level(logging.DEBUG, logger="exchanges.bingx")
    mocked.get(f"{BINGX_URL}/openApi/swap/v3/user/balance", json=bingx_err(100413, "Incorrect apiKey"))
    with pytest.raises(Exception):
        bingx.balance()
    (record,) = [r for r in caplog.records if r.name == "exchanges.bingx"]
    assert record.levelno == logging.WARNING and "code=100413" in record.getMessage()


# --- Answers that are not the venue's: never in a message, only a scrubbed excerpt in the log -------------------

FOREIGN_PAGE = f"<html>internal dashboard s3cr3t-page {API_KEY} {API_SECRET} signature=abc123 " + "x" * 500


@pytest.mark.parametrize(("status", "error"), [(200, MalformedResponse), (404, InvalidRequest), (400, InvalidRequest)])
def test_a_foreign_answer_is_not_echoed_in_the_error_but_logged_short_and_scrubbed(
    mocked, bybit, caplog, status, error
) -> None:
    """The message names the HTTP status only; the log keeps at most 120 characters, credentials and signature
    replaced."""
    caplog.set_level(logging.WARNING, logger="exchanges.bybit")
    mocked.get(f"{BYBIT_URL}/v5/account/wallet-balance", body=FOREIGN_PAGE, status=status)
    with pytest.raises(error) as caught:
        bybit.balance()
    assert "s3cr3t-page" not in str(caught.value) and "internal dashboard" not in str(caught.value)
    assert f"HTTP {status}" in str(caught.value)
    excerpts = [r.getMessage() for r in caplog.records if "not the venue's envelope" in r.getMessage()]
    assert excerpts and "s3cr3t-page" in excerpts[0]
    for line in excerpts:
        assert API_KEY not in line and API_SECRET not in line and "abc123" not in line
        assert "x" * 121 not in line


def test_a_venue_envelope_error_keeps_the_venues_own_code_and_message(mocked, bybit) -> None:
    """A real envelope's error is the venue's own words: shown, with its code."""
    mocked.get(f"{BYBIT_URL}/v5/account/wallet-balance", json=bybit_err(10001, "accountType only support UNIFIED"))
    with pytest.raises(ExchangeError) as caught:
        bybit.balance()
    assert "accountType only support UNIFIED" in str(caught.value) and caught.value.code == "10001"


def test_an_unreadable_field_is_quoted_short(mocked, bybit) -> None:
    """A field that fails to parse is echoed at most 40 characters long."""
    mocked.get(BYBIT_TIME, json=bybit_ok({"timeNano": "y" * 500}))
    with pytest.raises(MalformedResponse) as caught:
        bybit.server_time()
    assert "y" * 41 not in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:9/secret.txt?", "http://127.0.0.1:9/x?a=1", "https://bybit.test/#", "https://u:p@bybit.test"],
)
def test_a_base_url_with_a_query_fragment_or_user_info_is_refused(base_url) -> None:
    """The fixed paths are appended to the base URL: a '?', '#' or user info would change where they go."""
    with pytest.raises(ValueError, match="query"):
        BybitClient(Credentials(API_KEY, API_SECRET), base_url=base_url)
