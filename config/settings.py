"""Django settings for Chợ 4.0.

Everything that differs between a laptop and a province's server is read from
the environment here, through the helpers in ``common.env`` that fail loudly.

With nothing configured the project runs embedded: SQLite in ``var/`` and
Celery tasks executed in-process. Setting ``DATABASE_URL`` (PostgreSQL) and
``REDIS_URL`` (Celery broker and cache) switches to production mode.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from common.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CHO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
# Production is whatever runs on a real database; there a missing secret is fatal.
EMBEDDED = not DATABASE_URL


def _secret_key() -> str:
    key = env_str("DJANGO_SECRET_KEY")
    if key:
        return key
    if not EMBEDDED:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DATABASE_URL is set")
    # Embedded mode: a random key generated once per checkout, kept out of the repo.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI's files, served from our own static files (no CDN): /api/v1/docs/.
    "drf_spectacular_sidecar",
    "accounts",
    "market",
    "vendors",
    "payments",
    "stats",
    "onboarding",
    "stall",
    "demo",
]

MIDDLEWARE = [
    # Outermost: the security headers on every answer, /healthz and static files included.
    "config.middleware.SecurityHeadersMiddleware",
    # First: health checks answer whatever Host and scheme they use (see the class).
    "config.middleware.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Bodies over the limits below: 413 before anything reads them (common/request_limits.py).
    "common.request_limits.RequestSizeMiddleware",
    # Database unreachable or hanging past its timeouts: 503 + Retry-After, not 500.
    "common.database.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages in Vietnamese unless the language cookie says English; the API also
    # honours Accept-Language (common/locale.py).
    "common.locale.SiteLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A page's form with NUL or a bidi control in any field: 400 (common/form_text.py).
    "common.form_text.FormTextMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Request bodies (common/request_limits.py): a JSON or form body over DATA_UPLOAD_MAX_MEMORY_SIZE
# (Django's 2.5 MB) or any body over this (a 10 MiB spreadsheet upload and its framing) is refused, 413.
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", 11 * 1024 * 1024)

# Sent on every answer (config.middleware.SecurityHeadersMiddleware): scripts, styles,
# fetch/EventSource, audio clips and the offline queue's service worker from this site only
# (default-src 'self'), with no inline script, event handler, <style> or style attribute
# and no eval — every page's JavaScript and CSS is a static file (tests/config/
# test_csp_templates.py keeps it so); images from this site or data: URIs (Swagger UI's
# stylesheet draws its icons with them); no page may be framed (the modern
# X-Frame-Options), no plugins, forms and <base> only to this site. DJANGO_CSP="" sends none.
CONTENT_SECURITY_POLICY = env_str(
    "DJANGO_CSP",
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                # The signed-in user's role label in the page header (base.html).
                "config.context_processors.header",
            ],
        },
    },
]

# A PostgreSQL that is down or hangs must cost a request seconds, not minutes:
# the request then answers 503 + Retry-After (config/database.py). Commands
# that need longer statements (a big migration, a bulk load) run with
# DB_STATEMENT_TIMEOUT_MS=0, or `SET LOCAL statement_timeout` in their transaction.
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 3)
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 15_000)
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL")
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
        )
    }
    # Django's backend, plus deadlines on waiting for the server (common/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "common.postgresql"
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["connect_timeout"] = DB_CONNECT_TIMEOUT
    # The statements sent with server-side binding (the intake's batch statement,
    # payments/bank_credits/bulk_sql.py; Django's own queries never are) become
    # prepared statements from their Nth run on a connection: no parse and plan per
    # batch (a third of PostgreSQL's CPU per payment at small batches). 0: never
    # (behind a transaction-mode pooler older than PgBouncer 1.21).
    options["prepare_threshold"] = env_int("DB_PREPARE_THRESHOLD", 2) or None
    options["options"] = f"{options.get('options', '')} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}".strip()
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            # SQLite serialises writers; wait for the lock instead of failing.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Not configurable: whose login a phone number typed as the username is (accounts.sign_in
# asks vendors, which it may not import), so traders sign in with their stall's phone.
SIGN_IN_PHONE_LOOKUP = "vendors.sign_in.username_for_phone"
# The web sign-in page (accounts/views.py); `/` sends each role to its own page (config/views.py).
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Database sessions that carry their user's id, so deactivating a person deletes their
# sessions in one query (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"

# Accounts by invitation (accounts/invitations.py, docs/onboarding.md): how long the SMS link
# and code stay valid, how many wrong codes kill one, and the site address the link starts with.
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7)
INVITATION_CODE_MAX_ATTEMPTS = env_int("INVITATION_CODE_MAX_ATTEMPTS", 5)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Vietnamese first, English second. Times are stored in UTC, shown in Vietnam time.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The project's own CSS (and any vendored script) lives in static/; WhiteNoise serves it,
# from the finders under `make run` and from STATIC_ROOT after collectstatic (Dockerfile).
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The cache holds the sign-in throttle's counters (accounts/sign_in.py), so it
# must be one every process shares: Redis, else a table in the database
# (created by `manage.py createcachetable`, which `make migrate` and compose's
# migrate service run; with Redis the table still backs the sign-in throttle
# during a Redis outage). Redis gets short timeouts: an outage answers at once.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
        # Where the sign-in throttle counts while Redis is down (accounts/sign_in.py):
        # sign-in keeps working, still throttled, during a Redis outage.
        "sign_in_fallback": {"BACKEND": "common.cache.DatabaseCache", "LOCATION": "cho40_cache"},
    }
else:
    CACHES = {"default": {"BACKEND": "common.cache.DatabaseCache", "LOCATION": "cho40_cache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    # JSON with NUL or a lone surrogate anywhere: 400 invalid_characters (common/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}


def _trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in env_list("TRUSTED_PROXIES", []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES must be IP addresses or CIDRs, got {item!r}") from None
    return networks


# The reverse proxies (and TLS terminators) in front of the app, as addresses
# or CIDRs: the client address is the first one in X-Forwarded-For, read from
# the right, that is not one of them (config/client_address.py). Empty: the
# TCP peer is the client and X-Forwarded-For is ignored.
TRUSTED_PROXIES = _trusted_proxies()
if env_int("NUM_PROXIES", 0):
    # Replaced: a count of proxies cannot tell a TLS terminator from a client.
    raise ImproperlyConfigured("NUM_PROXIES is no longer read; list the proxies' addresses in TRUSTED_PROXIES")

# --- Sign-in (accounts/): failed attempts allowed per window, per account
# (username, case-insensitive) and per client address, before sign-in is
# refused for the rest of the window; and how long an unused API token lives.
LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
LOGIN_WINDOW_SECONDS = env_int("LOGIN_WINDOW_SECONDS", 15 * 60)
API_TOKEN_IDLE_TIMEOUT_DAYS = env_int("API_TOKEN_IDLE_TIMEOUT_DAYS", 14)

SPECTACULAR_SETTINGS = {
    "TITLE": "Chợ 4.0 API",
    "DESCRIPTION": "Cashless traditional markets: markets, vendors, VietQR and payments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl null: Swagger UI would otherwise send the schema to a public validator.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" field with different choices; name them.
    "ENUM_NAME_OVERRIDES": {
        "MarketStatusEnum": "market.models.Market.Status",
        "VendorStatusEnum": "vendors.models.Vendor.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "AccountClaimStatusEnum": "vendors.models.SharedAccountClaim.Status",
    },
}

# Celery: Redis in production; without a broker tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Fail fast when the broker is down: the database is the source of truth and
# callers record work there first, so a dead broker must not block a request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# acks_late: a task whose worker died (SIGKILL, OOM, a lost machine) is run
# again. A pool process that died is seen by its worker, which puts the task
# back at once (task_reject_on_worker_lost); a whole worker that died leaves
# the message unacknowledged in Redis, where the transport gives it to another
# worker after visibility_timeout (kombu's default: an hour). It must exceed the
# longest countdown (the SMS/rail back-off, at most 750 s) plus that task's run,
# or a message held for its countdown would be handed out twice.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG and not EMBEDDED:
    # Production sits behind a TLS terminator (the province's load balancer)
    # that sets X-Forwarded-Proto; the proxy of docker-compose.yml passes it on.
    # docs/security.md, "Deployment".
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

# --- Payments: provider secrets come only from the environment. An unset key
# disables that webhook (it answers 503) rather than accepting unsigned calls.
SEPAY_API_KEY = env_str("SEPAY_API_KEY")
SEPAY_WEBHOOK_SECRET = env_str("SEPAY_WEBHOOK_SECRET")  # SePay's HMAC-SHA256 variant
CASSO_CHECKSUM_KEY = env_str("CASSO_CHECKSUM_KEY")
PAYOS_CHECKSUM_KEY = env_str("PAYOS_CHECKSUM_KEY")
# The batching webhook intake (config.asgi, payments/bank_credits/intake.py): database
# writer threads per worker process, the most deliveries one batch writes, and how long
# (ms) the next batch waits for the senders of the last one to send again (0: it never waits).
WEBHOOK_INTAKE_WRITERS = env_int("WEBHOOK_INTAKE_WRITERS", 1)
WEBHOOK_INTAKE_MAX_BATCH = env_int("WEBHOOK_INTAKE_MAX_BATCH", 200)
WEBHOOK_INTAKE_GATHER_MS = env_int("WEBHOOK_INTAKE_GATHER_MS", 10)
# Seconds a webhook lane waits for PostgreSQL before answering 503 + Retry-After (a
# hung server: frozen, stuck, a half-open connection), a connection included: under the
# providers' own timeout (about 10 s), so that they get an answer and retry instead of
# timing out. The intake also bounds a delivery's wait for its batch by it. 0: no bound.
WEBHOOK_ANSWER_WITHIN = env_int("WEBHOOK_ANSWER_WITHIN", 6)
USSD_SHARED_SECRET = env_str("USSD_SHARED_SECRET")
# The number customers dial for code entry (e.g. "*123*45#"), printed on stall cards.
USSD_DIAL_CODE = env_str("USSD_DIAL_CODE")
# Adapters to the world outside the machine; console/sandbox ones for the demo.
SMS_BACKEND = env_str("SMS_BACKEND", "payments.sms.backends.ConsoleSMSBackend")
MOBILE_MONEY_RAIL = env_str("MOBILE_MONEY_RAIL", "payments.code_entry.rails.SandboxRail")
# Not configurable: how vendors.payout_changes tells a trader about a payout-account
# change (SMS lives in payments, which vendors must not import).
PAYOUT_CHANGE_NOTIFIER = "payments.sms.payout_notices.payout_change_notify"
PAYMENT_REQUEST_DEFAULT_TTL_SECONDS = env_int("PAYMENT_REQUEST_DEFAULT_TTL_SECONDS", 15 * 60)
CONFIRMATION_CODE_TTL_SECONDS = env_int("CONFIRMATION_CODE_TTL_SECONDS", 24 * 3600)
# Code entry (docs/code-entry.md): an offline confirmation with no payment by then is flagged.
OFFLINE_CONFIRMATION_DEADLINE_SECONDS = env_int("OFFLINE_CONFIRMATION_DEADLINE_SECONDS", 24 * 3600)
CELERY_BEAT_SCHEDULE["code-entry-sms-sweep"] = {
    "task": "payments.tasks.code_entry.sweep_outbound_sms",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["code-entry-rail-sweep"] = {
    "task": "payments.tasks.code_entry.sweep_pending_rail_payments",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["code-entry-offline-reconcile"] = {
    "task": "payments.tasks.code_entry.reconcile_offline_confirmations",
    "schedule": 300.0,
}
# Sale QRs (docs/vietqr.md): pending payment requests past expires_at → expired.
CELERY_BEAT_SCHEDULE["expire-payment-requests"] = {"task": "payments.expire_payment_requests", "schedule": 60.0}
# Rendered market card PDFs are kept this many days, then deleted (the batch rows stay).
CARD_BATCH_RETENTION_DAYS = env_int("CARD_BATCH_RETENTION_DAYS", 7)
CELERY_BEAT_SCHEDULE["purge-card-batches"] = {"task": "payments.purge_card_batches", "schedule": 24 * 3600.0}
# Webhook deliveries left "received" by a request that was cut off → failed (docs/webhooks.md).
CELERY_BEAT_SCHEDULE["mark-stuck-webhook-deliveries"] = {
    "task": "payments.mark_stuck_webhook_deliveries",
    "schedule": 600.0,
}
# Bulk imports whose task message was lost (broker outage) are enqueued again (docs/onboarding.md).
CELERY_BEAT_SCHEDULE["onboarding-imports-sweep"] = {"task": "onboarding.imports.sweep", "schedule": 120.0}
# Statistics (docs/stats.md): beat folds the payment change log into the rollups
# every 15 s (an unrun fold expires rather than piling up behind a stopped worker);
# every read first folds what is pending, at most this many changes.
STATS_READ_FOLD_MAX = env_int("STATS_READ_FOLD_MAX", 50_000)
# A statistics read sends its independent queries side by side from this many
# threads (each with its own connection) on PostgreSQL; 1 sends them one by one
# (stats/concurrent.py).
STATS_READ_THREADS = env_int("STATS_READ_THREADS", 3)
# The stall page's live receipts (docs/stall.md): an event stream sends a
# comment this often so proxies keep it open; it re-reads the ledger after
# this many seconds without a Redis message (every second without Redis);
# a payment not announced aloud by any of the stall's phones this long after
# it was recorded puts the stall on its market's "speaker silent" list.
STALL_KEEPALIVE_SECONDS = env_int("STALL_KEEPALIVE_SECONDS", 15)
STALL_LEDGER_RECHECK_SECONDS = env_int("STALL_LEDGER_RECHECK_SECONDS", 15)
STALL_SILENT_GRACE_SECONDS = env_int("STALL_SILENT_GRACE_SECONDS", 120)
CELERY_BEAT_SCHEDULE["stats-fold-changes"] = {
    "task": "stats.fold_changes",
    "schedule": 15.0,
    "options": {"expires": 14.0},
}
# Bounds on unauthenticated webhook POSTs (docs/security.md): a larger body
# is refused (413) unread and unstored; after this many refused deliveries from
# one address within the window, its further unverifiable ones get 429 and are
# not stored (signed deliveries are never limited); refused rows are deleted
# after the retention period by a daily task.
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 32 * 1024)
WEBHOOK_REFUSALS_PER_WINDOW = env_int("WEBHOOK_REFUSALS_PER_WINDOW", 30)
WEBHOOK_REFUSAL_WINDOW_SECONDS = env_int("WEBHOOK_REFUSAL_WINDOW_SECONDS", 600)
WEBHOOK_REFUSED_RETENTION_DAYS = env_int("WEBHOOK_REFUSED_RETENTION_DAYS", 30)
CELERY_BEAT_SCHEDULE["purge-refused-webhook-deliveries"] = {
    "task": "payments.purge_refused_webhook_deliveries",
    "schedule": 24 * 3600.0,
}

# --- E-mail (the weekly statistics digest, stats/digest.py): Django's backends;
# the console one by default, so nothing leaves the machine until one is chosen
# (e.g. django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST …).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Chợ 4.0 <no-reply@cho40.local>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# The digest's task lives beside stats.tasks (autodiscovered): Celery imports it by name.
CELERY_IMPORTS = ["stats.digest_tasks"]
# Every Monday 07:00 local (CELERY_TIMEZONE is TIME_ZONE): last week's digest.
CELERY_BEAT_SCHEDULE["stats-weekly-digest"] = {
    "task": "stats.send_weekly_digest",
    "schedule": crontab(minute="0", hour="7", day_of_week="mon"),
}
