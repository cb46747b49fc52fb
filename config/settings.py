"""Django settings for Chợ 4.0.

Everything that differs between a laptop and a province's server is read from
the environment here, through the helpers in ``config.env`` that fail loudly.

With nothing configured the project runs embedded: SQLite in ``var/`` and
Celery tasks executed in-process. Setting ``DATABASE_URL`` (PostgreSQL) and
``REDIS_URL`` (Celery broker and cache) switches to production mode.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "market",
    "vendors",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
            ],
        },
    },
]

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
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Reverse proxies in front of the app (docker-compose.yml has one): the
    # login throttle then keys on the client address the proxy saw, not on the
    # proxy's. 0 trusts no X-Forwarded-For at all.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Chợ 4.0 API",
    "DESCRIPTION": "Cashless traditional markets: markets, vendors, VietQR and payments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" field with different choices; name them.
    "ENUM_NAME_OVERRIDES": {
        "MarketStatusEnum": "market.models.Market.Status",
        "VendorStatusEnum": "vendors.models.Vendor.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
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
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
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
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Payments: provider secrets come only from the environment. An unset key
# disables that webhook (it answers 503) rather than accepting unsigned calls.
SEPAY_API_KEY = env_str("SEPAY_API_KEY")
SEPAY_WEBHOOK_SECRET = env_str("SEPAY_WEBHOOK_SECRET")  # SePay's HMAC-SHA256 variant
CASSO_CHECKSUM_KEY = env_str("CASSO_CHECKSUM_KEY")
PAYOS_CHECKSUM_KEY = env_str("PAYOS_CHECKSUM_KEY")
# The batching webhook intake (config.asgi, payments/webhooks/intake.py): database
# writer threads per worker process, and the most deliveries one batch writes.
WEBHOOK_INTAKE_WRITERS = env_int("WEBHOOK_INTAKE_WRITERS", 1)
WEBHOOK_INTAKE_MAX_BATCH = env_int("WEBHOOK_INTAKE_MAX_BATCH", 200)
USSD_SHARED_SECRET = env_str("USSD_SHARED_SECRET")
# The number customers dial for code entry (e.g. "*123*45#"), printed on stall cards.
USSD_DIAL_CODE = env_str("USSD_DIAL_CODE")
# Adapters to the world outside the machine; console/sandbox ones for the demo.
SMS_BACKEND = env_str("SMS_BACKEND", "payments.sms.ConsoleSMSBackend")
MOBILE_MONEY_RAIL = env_str("MOBILE_MONEY_RAIL", "payments.rails.SandboxRail")
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
# Bounds on unauthenticated webhook POSTs (docs/security/h3.md): a larger body
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
