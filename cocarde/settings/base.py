"""Settings shared by every environment. Values come from the environment (see `.env.example`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cocarde.settings.env import BASE_DIR, env, env_bool, env_int, env_list, env_str

DJANGO_ENV = env_str("DJANGO_ENV", "development")

# --- Core -------------------------------------------------------------------------------------

SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Ours first, so our templates override the libraries' ones.
    "cocarde",
    "cocarde.accounts",
    "cocarde.tenancy",
    "cocarde.audit",
    "sites",
    "themes",
    "crm",
    "messaging",
    "donations",
    "territory",
    "territory.intelligence",
    "canvassing",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # Accounts
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Django
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves cached candidate-site pages before any session or database work.
    "sites.cache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cocarde.accounts.middleware.StaffTwoFactorMiddleware",
    # Another campaign's pages and site settings answer 404 in the admin.
    "sites.middleware.AdminSiteScopeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cocarde.csp.SplitCSPMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "cocarde.urls"
WSGI_APPLICATION = "cocarde.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cocarde" / "templates"],
        "OPTIONS": {
            # Theme templates live in themes/<key>/templates and are named themes/<key>/...
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                        "themes.loaders.ThemeLoader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Data stores ------------------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'cocarde.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if "postgresql" in DATABASES["default"]["ENGINE"] and env_bool("DB_PREPARED_STATEMENTS", True):
    # Django binds its own queries client-side, never prepared; this only lets the few hot
    # statements that ask for it (the Stripe inbox) be prepared once per connection.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets requests read while another writes. A transaction that reads and then writes
    # while another holds the write lock fails at once with "database is locked" (the busy
    # timeout does not apply to it), so transactions take the write lock as they begin
    # (BEGIN IMMEDIATE): concurrent requests and the in-process task runner wait their turn.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

REDIS_URL = env_str("REDIS_URL")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cocarde",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background work (Celery) -----------------------------------------------------------------
# With REDIS_URL unset (embedded mode), tasks run eagerly in the calling process.

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# At-least-once delivery: a task whose worker dies is run again, so every task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Bulk work (imports, blasts, cloning many sites) never delays transactional work
# (receipts, confirmations): they have their own queues and workers.
CELERY_TASK_ROUTES = {
    "*.bulk_*": {"queue": "bulk"},
    "*.transactional_*": {"queue": "transactional"},
}
# A message not acknowledged within this time is handed to another worker. Every retry
# countdown must stay below it, or the task would run twice (see cocarde.celery).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Accounts ---------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "cocarde.tenancy.backends.CampaignRoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"
LOGOUT_REDIRECT_URL = "/"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Never reveal whether an address has an account, and never mail addresses that have none
# (mail to unknown addresses could be used to damage our sending domain's reputation).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
ACCOUNT_ADAPTER = "cocarde.accounts.adapter.AccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Cocarde"
# Staff must have two-factor authentication before they can open the admin (CRM data).
COCARDE_STAFF_MFA_REQUIRED = env_bool("COCARDE_STAFF_MFA_REQUIRED", True)

# --- Wagtail ----------------------------------------------------------------------------------

WAGTAIL_SITE_NAME = "Cocarde"
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Staff sign in through allauth (rate limits, two-factor), never through Wagtail's own form.
WAGTAILADMIN_LOGIN_URL = "account_login"
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_I18N_ENABLED = False
# No Gravatar: it would send a hash of every staff address to a third party.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_PERMITTED_LANGUAGES = [("fr", "Français"), ("en", "English")]
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "docx", "xlsx", "odt", "ods", "txt", "zip"]

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Each theme's static files are served under themes/<key>/.
STATICFILES_DIRS = [
    (f"themes/{path.parent.name}", path) for path in sorted((BASE_DIR / "themes").glob("*/static"))
]
MEDIA_URL = "/media/"
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Security headers (tightened further in production) ---------------------------------------

SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # Wagtail allows its own preview iframe per view.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Scripts come from our origin, never inline; Wagtail's admin, which still has inline scripts,
# gets 'unsafe-inline' for them under /admin/ only (cocarde/csp.py). Inline styles stay allowed.
# Donation pages load Stripe.js, which opens its card frame and talks to Stripe's API.
_STRIPE_ORIGINS = ["https://js.stripe.com", "https://hooks.stripe.com", "https://api.stripe.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "https://js.stripe.com"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", "https://api.stripe.com"],
        "frame-src": ["'self'", *_STRIPE_ORIGINS],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- External providers (each used by the app that owns it) -----------------------------------

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Cocarde <no-reply@cocarde.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
SENDGRID_API_KEY = env_str("SENDGRID_API_KEY")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")  # e.g. a localstripe server in tests
# Stripe.js, loaded by donation pages (card data goes to Stripe, never to us).
STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
# Fernet key encrypting each campaign's Stripe keys; empty: derived from SECRET_KEY.
DONATIONS_ENCRYPTION_KEY = env_str("DONATIONS_ENCRYPTION_KEY")
# Background tiles of the territory map ({z}/{x}/{y} URL). Empty: no background; the polling
# stations, our own data, still show (offline use).
TERRITORY_MAP_TILE_URL = env_str(
    "TERRITORY_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
TERRITORY_MAP_TILE_ATTRIBUTION = env_str(
    "TERRITORY_MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors"
)

# --- CRM ------------------------------------------------------------------------------------

# Keys the hashes of opted-out emails and phones, kept after erasure so a later import cannot
# re-add the person. Never rotate it (old opt-outs would stop matching); unlike SECRET_KEY.
CRM_SUPPRESSION_KEY = env_str("CRM_SUPPRESSION_KEY")
# Public form abuse limits: (submissions, seconds) per IP address and per email/phone.
CRM_RATE_LIMIT_PER_IP = (env_int("CRM_RATE_LIMIT_PER_IP", 20), 10 * 60)
CRM_RATE_LIMIT_PER_TARGET = (env_int("CRM_RATE_LIMIT_PER_TARGET", 5), 60 * 60)
# Proof of work asked of public forms (ALTCHA): the browser tries up to this many hashes.
CRM_POW_MAX_NUMBER = env_int("CRM_POW_MAX_NUMBER", 50_000)
# --- Messaging (docs/messaging.md) ------------------------------------------------------------

# Blasts go through this Django email backend: the embedded outbox by default, SendGrid through
# django-anymail ("anymail.backends.sendgrid.EmailBackend"), any other Anymail backend, or SMTP.
MESSAGING_EMAIL_BACKEND = env_str(
    "MESSAGING_EMAIL_BACKEND", "messaging.backends.OutboxEmailBackend"
)
ANYMAIL = {
    "SENDGRID_API_KEY": SENDGRID_API_KEY,
    "SENDGRID_API_URL": env_str("SENDGRID_API_URL", "https://api.sendgrid.com/v3/"),
    "SENDGRID_MERGE_FIELD_FORMAT": "{}",
    "REQUESTS_TIMEOUT": env_int("MESSAGING_PROVIDER_TIMEOUT", 30),
    # "user:password" in the URLs given to the ESP for Anymail's tracking webhooks; without it
    # their events are ignored.
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET"),
}
# Base64 DER public key of SendGrid's signed event webhook (ECDSA P-256).
SENDGRID_WEBHOOK_PUBLIC_KEY = env_str("SENDGRID_WEBHOOK_PUBLIC_KEY")
# SMS: "outbox" (embedded) or "twilio" (REST API through a Messaging Service).
MESSAGING_SMS_BACKEND = env_str("MESSAGING_SMS_BACKEND", "outbox")
TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
# Seconds an SMS may wait at the provider; we never queue more than it can send in that time.
MESSAGING_SMS_VALIDITY_SECONDS = env_int("MESSAGING_SMS_VALIDITY_SECONDS", 4 * 60 * 60)
MESSAGING_SMS_PRICE_PER_SEGMENT = env_str("MESSAGING_SMS_PRICE_PER_SEGMENT", "0.075")
# The public https address of this server as providers see it (signed webhooks, links).
MESSAGING_PUBLIC_URL = env_str("MESSAGING_PUBLIC_URL", WAGTAILADMIN_BASE_URL)
# Recipients per provider request (SendGrid: up to 1,000 personalisations) and per claim.
MESSAGING_BATCH_SIZE = env_int("MESSAGING_BATCH_SIZE", 1000)
# Seconds a worker may hold claimed rows; after that the sweeper takes them back.
MESSAGING_CLAIM_LEASE_SECONDS = env_int("MESSAGING_CLAIM_LEASE_SECONDS", 10 * 60)
# Seconds before an "unknown" delivery without any provider event is considered not sent.
MESSAGING_RECONCILE_AFTER_SECONDS = env_int("MESSAGING_RECONCILE_AFTER_SECONDS", 60 * 60)
# Polls close at this local time on election day (electoral silence ends then).
MESSAGING_POLLS_CLOSE = env_str("MESSAGING_POLLS_CLOSE", "20:00")

# Days raw webhook payloads (Stripe, SendGrid, Twilio), which name people, are kept before
# being emptied (cocarde/payloads.py); the events' ids and effects stay.
PROVIDER_PAYLOAD_RETENTION_DAYS = env_int("PROVIDER_PAYLOAD_RETENTION_DAYS", 90)

CELERY_BEAT_SCHEDULE = {
    "messaging-sweep": {"task": "messaging.tasks.bulk_sweep", "schedule": 60},
    "crm-retention": {
        "task": "crm.tasks.bulk_apply_retention_rules",
        "schedule": 24 * 60 * 60,
    },
    # Repairs gifts whose webhook never arrived (Stripe stops retrying after 3 days).
    "donations-reconcile": {
        "task": "donations.tasks.bulk_reconcile_payments",
        "schedule": 60 * 60,
    },
    "messaging-payload-retention": {
        "task": "messaging.tasks.bulk_empty_old_provider_payloads",
        "schedule": 24 * 60 * 60,
    },
    "donations-payload-retention": {
        "task": "donations.tasks.bulk_empty_old_webhook_payloads",
        "schedule": 24 * 60 * 60,
    },
    # Applies stored Stripe events whose task was lost or crashed.
    "donations-pending-events": {
        "task": "donations.tasks.bulk_process_pending_events",
        "schedule": 60,
    },
}

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
    },
}
