"""fundarb settings: everything that differs between machines comes from the environment (or a `.env` file).

See `.env.example` for every variable. Production (DEBUG off) refuses to start without SECRET_KEY and
FIELD_ENCRYPTION_KEYS, and passes `manage.py check --deploy` with no warnings.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# FUNDARB_ENV_FILE names another file; set it empty to read none (tests of the refusals below do).
_env_file = env.str("FUNDARB_ENV_FILE", default=str(BASE_DIR / ".env"))
if _env_file:
    environ.Env.read_env(_env_file)


def _required(name: str) -> str:
    """A one-line refusal instead of a traceback: an operator reads this at 3 a.m."""
    value = env.str(name, default="")
    if not value:
        sys.exit(f"fundarb: {name} must be set when DEBUG is off (see .env.example)")
    return value


def _dev_value(name: str, make) -> str:
    """In DEBUG, a value generated once and kept under var/ so the web server and the workers agree on it."""
    value = env.str(name, default="")
    if value:
        return value
    path = VAR_DIR / f"dev-{name.lower().replace('_', '-')}"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _new_secret_key() -> str:
    from django.core.management.utils import get_random_secret_key

    return get_random_secret_key()


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = _dev_value("SECRET_KEY", _new_secret_key)
    FIELD_ENCRYPTION_KEYS = [k.strip() for k in _dev_value("FIELD_ENCRYPTION_KEYS", _new_fernet_key).split(",")]
else:
    SECRET_KEY = _required("SECRET_KEY")
    FIELD_ENCRYPTION_KEYS = [k.strip() for k in _required("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]


def _check_fernet_keys(keys: list[str]) -> list[str]:
    from cryptography.fernet import Fernet

    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            sys.exit(
                f"fundarb: FIELD_ENCRYPTION_KEYS entry {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; generate one with `make key`)"
            )
    return keys


FIELD_ENCRYPTION_KEYS = _check_fernet_keys(FIELD_ENCRYPTION_KEYS)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "arbitrage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fundarb_site.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The per-username login cap's page, and the known-device cookie set on each successful login.
    "arbitrage.middleware.LoginThrottleMiddleware",
    # Last, as django-axes documents: it turns a lockout flagged during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fundarb_site.urls"
WSGI_APPLICATION = "fundarb_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'fundarb.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the workers and the executor's threads write concurrently: WAL lets readers run beside the
    # writer, the busy timeout waits for the lock instead of failing, and IMMEDIATE transactions take the write lock
    # up front so two writers never deadlock upgrading a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
    )
    # A file, not the shared-cache in-memory database, so the executor's threads see one database in tests too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-fundarb.sqlite3")}
    VAR_DIR.mkdir(exist_ok=True)
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://fundarb")}

# --- Auth -------------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out (username, IP address) before any password is checked. Then the
# per-username cap on slow guessing from many addresses (see "Login throttling" below), then the password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "arbitrage.backends.UsernameThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Time and language ------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Static files (vendored; the app works offline, no CDN) -----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security ---------------------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# A trading session, not Django's two weeks: a forgotten logged-in browser should not keep the keys to the money.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Login throttling (django-axes) ------------------------------------------------------------------------------
# 5 failed logins for one username from one IP address lock that pair out for 15 minutes (the login page and the
# admin's alike); a success resets the count. Attempts live in the database, so every web process shares them.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address is REMOTE_ADDR. Behind reverse proxies set TRUSTED_PROXY_COUNT to how many of them append to
# X-Forwarded-For: the address the outermost trusted proxy saw is used, never one a client wrote into the header.
# Left at 0 behind a proxy, every visitor shares the proxy's address (lockouts then act per username).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "fundarb_site.middleware.client_ip_address"
# On top of that, slow guessing spread over many addresses: once a username has this many failed password checks
# within the (sliding) window, it may log in only from a browser that logged in as that user before (a signed
# "known device" cookie, valid 90 days). So a spray from many addresses cannot lock the user out of the browsers
# they already use; a new browser waits until the count drops below the limit.
LOGIN_USERNAME_FAILURE_LIMIT = env.int("LOGIN_USERNAME_FAILURE_LIMIT", default=50)
LOGIN_USERNAME_FAILURE_WINDOW = timedelta(seconds=env.int("LOGIN_USERNAME_FAILURE_WINDOW", default=24 * 3600))

# --- Email (notifications to owners) ----------------------------------------------------------------------------
# EMAIL_URL like smtp+tls://user:password@mail.example.com:587 ; the console backend prints mail to stdout.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="fundarb@localhost")

# --- Venues and the executor's timeline -------------------------------------------------------------------------
# Where public market data (funding rates, symbol rules) comes from: mainnet, or the simulator for the demo.
MARKET_DATA_ENVIRONMENT = env.str("MARKET_DATA_ENVIRONMENT", default="mainnet")
# Hosts (besides each venue's official API hosts) that an account's own base URL may name, with a path prefix: e.g.
# an egress proxy. Nothing else is reachable, so users cannot aim requests at internal services (arbitrage/services/
# venue_targets.py has the rules).
VENUE_ALLOWED_HOSTS = env.list("VENUE_ALLOWED_HOSTS", default=[])
# The demo (`make run`): the simulator plays both venues; run_stack starts it and seed_demo gives the demo user
# accounts on it. Only in demo mode do simulator accounts exist, and only at SIMULATOR_URL. Never set this in
# production.
DEMO_SIMULATOR = env.bool("DEMO_SIMULATOR", default=False)
DEMO_SIMULATOR_SECRET = env.str("DEMO_SIMULATOR_SECRET", default="")
SIMULATOR_URL = env.str("SIMULATOR_URL", default="http://127.0.0.1:8100")
DEMO_SIMULATOR_STATE = VAR_DIR / "simulator-state.json"
# Offsets around each funding instant T, in seconds. Tests shrink them to run a whole cycle in seconds.
FUNDARB_EXECUTOR = {
    "ARM_AHEAD": env.float("EXECUTOR_ARM_AHEAD", default=180),  # planner arms executions funding within this
    "PREFLIGHT_BEFORE_SYNC": env.float("EXECUTOR_PREFLIGHT_BEFORE_SYNC", default=30),
    "SYNC_BEFORE": env.float("EXECUTOR_SYNC_BEFORE", default=30),
    "SYNC_MIN_GAP": env.float("EXECUTOR_SYNC_MIN_GAP", default=10),  # sync ends at least this long before T-lead
    "OPEN_CUTOFF": env.float("EXECUTOR_OPEN_CUTOFF", default=1.0),  # never send an open later than T - this
    # Send each open early by its venue host's measured one-way latency, so it arrives at T - lead (off: it leaves
    # then, and arrives a one-way trip later).
    "AIM_AT_ARRIVAL": env.bool("EXECUTOR_AIM_AT_ARRIVAL", default=True),
    "UNKNOWN_ORDER_GRACE": env.float("EXECUTOR_UNKNOWN_ORDER_GRACE", default=10),  # not found for this long: not placed
    "PNL_FIRST_LOOK": env.float("EXECUTOR_PNL_FIRST_LOOK", default=20),  # venues report funding seconds after T
    "PNL_GIVE_UP": env.float("EXECUTOR_PNL_GIVE_UP", default=3600),
    # The close waits for the venues' ledgers to show the funding (notes §16), at most this long after T; then it
    # closes anyway and marks the funding unconfirmed. Shrunk by TIME_SCALE like the venues' rules.
    "PROOF_BOUND": env.float("EXECUTOR_PROOF_BOUND", default=180),
    "PROOF_POLL": env.float("EXECUTOR_PROOF_POLL", default=3.0),  # between two looks at the ledgers
    "RECONCILE_GRACE": env.float("EXECUTOR_RECONCILE_GRACE", default=60),
    # Converging legs after the open (settle, trim, unwind, close, reconcile): see services/converge.py.
    "ORDER_SETTLE": env.float("EXECUTOR_ORDER_SETTLE", default=2.0),  # an acked market order has filled by then
    # How long the settle waits for a leg whose open has an unknown outcome to show in its position.
    "OPEN_SETTLE_WAIT": env.float("EXECUTOR_OPEN_SETTLE_WAIT", default=0.5),
    "CONVERGE_BUDGET": env.float("EXECUTOR_CONVERGE_BUDGET", default=30),  # then the reconciler takes over
    "CONVERGE_PAUSE": env.float("EXECUTOR_CONVERGE_PAUSE", default=0.2),  # first pause between reads, doubling
    "CONVERGE_MAX_PAUSE": env.float("EXECUTOR_CONVERGE_MAX_PAUSE", default=5.0),
    "OPEN_RETRIES": env.int("EXECUTOR_OPEN_RETRIES", default=2),  # a leg's open refused for a moment, sent again
    "OPEN_RETRY_AFTER": env.float("EXECUTOR_OPEN_RETRY_AFTER", default=1.0),
    "LEASE": env.float("EXECUTOR_LEASE", default=30),  # a working owner holds its execution this long per renewal
    "RECONCILE_BUDGET": env.float("EXECUTOR_RECONCILE_BUDGET", default=20),  # per reconciler pass
    "RECONCILE_MAX_BACKOFF": env.float("EXECUTOR_RECONCILE_MAX_BACKOFF", default=1800),
    # BingX's order entry limit per account: 5/s in the endpoint tables, 10/s announced (notes §14).
    "BINGX_ORDERS_PER_SECOND": env.int("BINGX_ORDERS_PER_SECOND", default=5),
    "STAGE_THREADS": env.int("EXECUTOR_STAGE_THREADS", default=64),
    "MARGIN_BUFFER": env.float("EXECUTOR_MARGIN_BUFFER", default=1.10),  # required margin x this must be free
    "DEFAULT_TAKER_FEE": {"bybit": "0.00055", "bingx": "0.0005"},
    # Shrinks the venues' settlement rules (and the simulator's) for tests and the bench; applied only to pairs
    # whose accounts are both on the simulator. 1 everywhere else.
    "TIME_SCALE": env.float("EXECUTOR_TIME_SCALE", default=1.0),
}
# The venues' settlement rules (exchanges/settlement.py), tightened per venue: MIN_LEAD, LEAD_MARGIN, MIN_HOLD in
# seconds. A value below the venue's own rule is ignored: the rule is what the venue pays on.
FUNDARB_SETTLEMENT = {
    venue: {
        name: env.float(f"{venue.upper()}_SETTLEMENT_{name}", default=0.0)
        for name in ("MIN_LEAD", "LEAD_MARGIN", "MIN_HOLD")
    }
    for venue in ("bybit", "bingx")
}

# --- django-q2 --------------------------------------------------------------------------------------------------
# Money-moving work: a task that still runs is never handed to another worker (retry > timeout), a failed task is
# not retried by the queue (the executor's own state machine decides), and missed schedules are not replayed in a
# burst after downtime (catch_up off): a stale trigger must never fire late.
Q_TASK_TIMEOUT = env.int("Q_TASK_TIMEOUT", default=900)
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME_PREFIX", default="fundarb"),
    "workers": env.int("Q_WORKERS", default=4),
    "timeout": Q_TASK_TIMEOUT,
    "retry": Q_TASK_TIMEOUT + 300,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "time_zone": "UTC",
    "save_limit": 1000,
    "label": "Task queue",
    "poll": 0.2,
}
Q_REDIS_URL = env.str("Q_REDIS_URL", default="")
if Q_REDIS_URL:
    Q_CLUSTER["redis"] = Q_REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Logging: always to stderr, so command output on stdout stays clean -----------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="human")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "human": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
        "json": {"()": "fundarb_site.logging.JsonFormatter"},
    },
    "filters": {"redact": {"()": "fundarb_site.logging.RedactSecretsFilter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "json" if LOG_FORMAT == "json" else "human",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": env.str("DJANGO_LOG_LEVEL", default="INFO"), "propagate": True},
        # django-q2 attaches its own stdout-less handler unless its logger already has one.
        "django-q": {"handlers": ["stderr"], "level": env.str("Q_LOG_LEVEL", default="INFO"), "propagate": False},
        # django-axes announces itself at INFO on every start: noise on each command's stderr. Its login logs stay.
        "axes.apps": {"level": "WARNING"},
    },
}
