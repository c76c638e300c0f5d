"""The built-in exchange simulator: Bybit v5 linear and BingX USDT-M swap, on the wire, on one port.

fundarb's real clients (``exchanges/bybit.py``, ``exchanges/bingx.py``) run against it unchanged, signing included;
only the base URL differs. Bybit lives under ``/v5/...`` and BingX under ``/openApi/...``, with the real envelopes,
field names, error codes and rate-limit headers (``/work/shared/exchange-api-notes.md`` is the reference). Signatures
and timestamps are verified by code written independently of the clients' (``auth.py``).

In-process API (tests, benchmarks)::

    from exchanges.simulator import Simulator

    with Simulator(seed=1, latency_ms=0, funding_interval=120, symbols=None, state_file=None) as sim:
        base_url = sim.base_url                      # or: sim = Simulator(...); base_url = sim.start(); sim.stop()
        sim.add_account("bybit", "key", "secret", hedge=False, balance=Decimal("10000"))
        sim.set_next_funding("BTCUSDT", "bybit", in_seconds=3)
        sim.faults("bingx").fail_next("POST /openApi/swap/v2/trade/order", code=101204)
        sim.orders("bybit", "key"); sim.positions("bybit", "key"); sim.funding_ledger("bybit", "key")

``Simulator(host="127.0.0.1", port=0, seed=1, latency_ms=0, funding_interval=28800, symbols=None,
state_file=None, random_walk=True)``: port 0 binds an ephemeral port; ``symbols`` is a list of ``MarketSpec``
(default ``DEFAULT_MARKETS``: BTC, ETH, SOL, XRP, DOGE with per-venue max leverage, steps and minimums);
``random_walk=False`` freezes marks and funding rates for tests that check exact amounts. The server is a threaded
HTTP/1.1 server with keep-alive (parallel requests really run in parallel).

From another process (qcluster workers, ``make run``), ``SimulatorControl(base_url)`` offers the same methods over
the HTTP control API: ``POST /_sim/<operation>`` with a JSON object of keyword arguments, answered
``{"ok": true, "result": ...}`` or HTTP 400 ``{"ok": false, "error": ...}``; read-only operations also accept GET.
Operations: ``health``, ``add_account`` (idempotent: an existing key keeps its balance and positions),
``account``, ``set_position_mode``, ``set_balance``, ``set_permissions``, ``set_next_funding`` (symbol, venue,
in_seconds[, rate]), ``set_funding_rate``, ``set_funding_interval``, ``set_mark_price``, ``markets``,
``set_faults``, ``add_fault``, ``clear_faults``, ``describe_faults``, ``orders``, ``positions``,
``funding_ledger``, ``settlements`` (symbol, venue: both optional), ``reset``. Money is always a decimal string.

Settlement records: at every funding settlement of (venue, symbol) the simulator records the position of every
account on both venues in that symbol, ``{"venue", "symbol", "time_ms", "positions": [{"venue", "api_key", "slot",
"side", "size"}]}`` (``time_ms`` is the instant; an empty list means all flat), keeping the last 2000.
``settlement_net(records, symbol, accounts=[(venue, api_key), ...])`` gives ``(venue, time_ms, net)`` per record,
net signed long-positive: "at BingX's settlement of T, did A on Bybit and B on BingX net to zero?"

Command line: ``manage.py run_simulator [--port 8100] [--funding-interval 120] [--latency-ms 0] [--seed N]
[--state FILE] [--account VENUE:KEY:SECRET[:hedge] ...]`` prints the base URL and serves until Ctrl-C/SIGTERM.
With a state file, accounts, balances, leverage, modes, positions, orders, the funding ledger, the settlement
records and the funding schedule survive a restart (written atomically after every change).

Faults, per venue (``sim.faults(venue)`` or ``set_faults``/``add_fault``):
- ``latency(ms)``: half before handling, half before answering, like a network; never under the state lock.
- ``skew(ms)``: the venue's clock runs ahead (or behind); timestamps are checked against it.
- ``error_rate(rate, http_status=None)``: a seeded fraction of calls fail without effect: Bybit ``10016`` /
  BingX ``100500`` in an HTTP 200 envelope, or a bare HTML gateway page when ``http_status`` (5xx) is given.
- ``fail_next(endpoint, count=1, code=C, message=None, http_status=200)``: the next N calls answer code C
  (venue's usual message) or, with ``http_status`` >= 500 and no code, a bare gateway page; nothing is applied.
- ``timeout(endpoint, seconds, count=1)``: the call is applied, the answer held ``seconds`` (past the client's read
  timeout).
- ``drop_response(endpoint)``: applied, then the connection is closed unanswered (it happened, outcome unknown).
- ``drop_request(endpoint)``: the connection is closed unanswered and nothing is applied.
- ``processing(seconds=0, calls=0, count=1)``: the next N orders are placed (and filled), but order queries answer
  BingX ``80019`` / Bybit an empty list for ``seconds``, or for ``calls`` queries (one query if neither is given).
  BingX's create answer then says ``status NEW``, ``executedQty 0``.
- ``not_found(seconds, count=1)``: the next N orders are placed and filled (positions and balance at once), but
  order queries by either id answer "unknown order" (Bybit an empty ``list``, BingX ``80016``) until ``seconds``
  after placement.
- ``partial_fill(fraction=0.5, count=1)``: the next N orders fill only ``fraction`` (rounded down to the step, at
  least one step); the rest is cancelled as IOC. Reported as ``PartiallyFilled``/``PARTIALLY_FILLED`` with
  ``leavesQty`` 0 (nothing stays working).
- ``fail_after_apply(endpoint, code=C, message=None, count=1)``: the next N accepted calls are applied, then
  answered with code C (BingX ``80019`` on an order that was placed, Bybit ``10016``).
- ``outage(endpoint, seconds=S, http_status=503)``: for S seconds every call is a bare gateway page; none applied.
- ``rate_block(endpoint, seconds=S, ban_after=None, ban_seconds=0)``: for S seconds every call gets the venue's
  rate-limit refusal (Bybit ``10006``, BingX HTTP 429 ``100410``, limit headers pointing at the end); past
  ``ban_after`` refused calls the whole venue answers Bybit HTTP 403 "access too frequent" / BingX HTTP 418 for
  ``ban_seconds`` (every endpoint and account: an IP ban, and all simulator clients share one IP).
``endpoint`` is ``"/path"`` (any method), ``"METHOD /path"`` or ``"*"``. Every time limit runs on the venue clock
(local time plus the venue's skew); ``clear_faults`` ends them all.

Wire choices where the notes allow several:
- BingX per-account rate limit: HTTP 429 *and* code ``100410`` in the body; ``X-RateLimit-Requests-Remain``
  (calls left) and ``X-RateLimit-Requests-Expire`` (when the window frees a call: absolute epoch milliseconds on
  the venue clock, so no client can mistake it for seconds).
  Bybit: ``retCode 10006`` in HTTP 200 with ``X-Bapi-Limit-Status``/``X-Bapi-Limit``/
  ``X-Bapi-Limit-Reset-Timestamp`` (absolute ms, venue clock). Refused calls are not counted.
- Order ids: Bybit a UUID string; BingX an odd int64 above 2**53 sent as a JSON number (never an exact double).
- BingX ``clientOrderId``/``clientOrderID`` both accepted and lowercased; create echoes ``clientOrderID``, query
  returns ``clientOrderId``. ``reduceOnly=true`` is refused in hedge mode (``109400``); ``false`` is tolerated.
- BingX one-way positions are reported as ``LONG``/``SHORT`` by direction with a positive ``positionAmt``.
- A reduce-only order with nothing to reduce: Bybit ``110017``, BingX ``80017`` "position not exist". Closing
  orders are capped at the position size and exempt from the minimum notional.
- BingX signs the raw query string as received minus ``signature``, followed by a raw form body if one is sent.
- BingX ``apiPermissions`` answers its payload without the ``code`` envelope, with integer permission codes, as the
  docs-v3 sample shows; its errors keep the envelope.

Demo deviations:
- Funding intervals can be any number of seconds (the demo uses 2 minutes), but the venues only know whole hours:
  ``fundingIntervalHour``/``fundingIntervalHours`` report the nearest whole hour (at least 1) and Bybit's
  ``fundingInterval`` that many minutes times 60. ``nextFundingTime`` is always truthful: clients must take the
  next instant from it, never from the interval.
- Only market orders; both venues share one seeded index price (each venue's mark adds a small fixed basis).
- All accounts are cross margin; Bybit leverage must be equal on both sides.
- Instants missed while the simulator was down are settled once at restart, then the schedule moves on.
"""

from .control import ControlError, SimulatorControl
from .markets import DEFAULT_MARKETS, MarketSpec, VenueRules
from .runtime import Simulator
from .settlements import SettlementNet, settlement_net

__all__ = [
    "DEFAULT_MARKETS",
    "ControlError",
    "MarketSpec",
    "SettlementNet",
    "Simulator",
    "SimulatorControl",
    "VenueRules",
    "settlement_net",
]
