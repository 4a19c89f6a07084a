"""Argus settings. Everything deployment-specific comes from the environment (12-factor);
every setting has a default that works on a laptop. docs/configuration.md lists them all."""
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"


def env_str(name, default):
    return os.environ.get(name, default)


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_bool(name, default):
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


DEBUG = env_bool("DJANGO_DEBUG", False)
# The key signs sessions (the admin) and password-reset tokens. It comes from DJANGO_SECRET_KEY,
# else from var/secret_key (bin/start writes a random one there, for manage.py commands on the
# same machine). The published development key is only accepted with DEBUG on: with it, anyone
# could forge an admin session.
DEV_SECRET_KEY = "argus-insecure-dev-key-change-me"
SECRET_KEY_FILE = Path(env_str("ARGUS_SECRET_KEY_FILE", "") or BASE_DIR / "var" / "secret_key")
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "") or (
    SECRET_KEY_FILE.read_text().strip() if SECRET_KEY_FILE.exists() else DEV_SECRET_KEY)
if SECRET_KEY == DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY to a long random value (python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))'); the development key is refused with DJANGO_DEBUG off.")
# Host names the web process answers to: this machine unless set (never "*" by default, so a
# forged Host header cannot reach password-reset links or caches keyed by host).
ALLOWED_HOSTS = [h.strip() for h in env_str("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
                 if h.strip()]

# ARGUS_HTTPS=true: the installation is served over HTTPS (TLS ended by the proxy in front,
# which must set X-Forwarded-Proto and strip it from clients). Turns on HSTS, secure cookies and
# the redirect of plain HTTP to HTTPS (/health is exempt, for load balancers' plain checks).
ARGUS_HTTPS = env_bool("ARGUS_HTTPS", False)
if ARGUS_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health$"]
    SECURE_HSTS_SECONDS = env_int("ARGUS_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ARGUS_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading commits the domain and every subdomain to HTTPS in browsers for months, which
    # only its owner can decide: opt in. Django's deploy check warns without it (W021).
    SECURE_HSTS_PRELOAD = env_bool("ARGUS_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "feeds",
    "inference",
    "history",
    "timeline",
    "dashboard",
    "registry",
    "notify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # admin and API-docs assets, no separate server
    "core.request_metrics.RequestMetricsMiddleware",  # /metrics: requests and latency (static files not counted)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "argus_project.urls"

# Password logins (the admin) lock a username after repeated failures (core/login_lockout.py).
AUTHENTICATION_BACKENDS = ["core.login_lockout.LockoutModelBackend"]
ARGUS_LOGIN_MAX_FAILURES = env_int("ARGUS_LOGIN_MAX_FAILURES", 5)
ARGUS_LOGIN_LOCKOUT_SECONDS = env_int("ARGUS_LOGIN_LOCKOUT_SECONDS", 900)
# The dashboard's session login (dashboard/): people, not API keys.
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "argus_project.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=600
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Serve assets straight from the installed apps: no collectstatic step, no STATIC_ROOT.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.auth.APIKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.auth.HasTeamKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Argus API",
    "DESCRIPTION": "Predictive server-incident engine: feed 5-minute server metrics, read risk "
    "scores, alerts and 8-hour forecasts. Authenticate with the `X-API-Key` header.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",  # the docs page's JavaScript is served from here, not a CDN
    # a server's status values appear in records and in history, alert levels in predictions and
    # in the alert timeline: one named enum for each
    "ENUM_NAME_OVERRIDES": {"ServerStatusEnum": "feeds.schema.STATUSES", "AlertLevelEnum": "timeline.openapi.LEVELS"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("ARGUS_LOG_LEVEL", "INFO")},
}

# --- Argus -------------------------------------------------------------------------------------
# The API key model core.auth resolves X-API-Key headers with (a team's key).
ARGUS_API_KEY_MODEL = "feeds.TeamAPIKey"
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# The prefix of every Redis key of this installation (core/keys.py), Celery's included: give
# each installation sharing a Redis its own. Letters, digits, "-" and "_" only (no glob or
# hash-tag characters).
ARGUS_REDIS_PREFIX = env_str("ARGUS_REDIS_PREFIX", "argus")
if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", ARGUS_REDIS_PREFIX):
    raise ImproperlyConfigured("ARGUS_REDIS_PREFIX: 1-64 letters, digits, '-' or '_'")
# Seconds a client waits for Redis before the request fails with 503.
ARGUS_REDIS_TIMEOUT = float(env_str("ARGUS_REDIS_TIMEOUT", "2"))
# Rate limits per API key, "<count>/<sec|min|hour>"; a team may override each in admin.
ARGUS_RATE_FEED = env_str("ARGUS_RATE_FEED", "60/min")
ARGUS_RATE_READ = env_str("ARGUS_RATE_READ", "30/min")
ARGUS_RATE_ADMIN = env_str("ARGUS_RATE_ADMIN", "10/min")
# Request limits for POST /feed/data.
ARGUS_MAX_RECORDS = env_int("ARGUS_MAX_RECORDS", 10_000)
ARGUS_MAX_BODY_BYTES = env_int("ARGUS_MAX_BODY_BYTES", 16 * 1024 * 1024)
# Rolling windows: 5-minute slots kept per server (600 = 50 h: the forecast blends in each
# server's yesterday and checks it against the last day, inference/seasonal.py), points needed
# before warm-up completes, and how long (wall-clock seconds) a silent server is kept.
ARGUS_WINDOW_SLOTS = env_int("ARGUS_WINDOW_SLOTS", 600)
ARGUS_WARMUP_RECORDS = env_int("ARGUS_WARMUP_RECORDS", 100)
ARGUS_SERVER_TTL = env_int("ARGUS_SERVER_TTL", 7 * 24 * 3600)
# Per-team bounds (a team may be given others in admin): servers held at once, and servers
# seen for the first time in any hour. A batch that would pass either is refused whole.
ARGUS_MAX_SERVERS_PER_TEAM = env_int("ARGUS_MAX_SERVERS_PER_TEAM", 50_000)
ARGUS_MAX_NEW_SERVERS_PER_HOUR = env_int("ARGUS_MAX_NEW_SERVERS_PER_HOUR", 10_000)
# Timestamps further than this many seconds ahead of the server clock are rejected.
ARGUS_MAX_FUTURE_SECONDS = env_int("ARGUS_MAX_FUTURE_SECONDS", 3600)
# Point history (history/): days of points kept in the database (data time, from today back);
# points waiting in a team's Redis stream for the archiver, at most this many per server held
# (2016 = a week of 5-minute slots: the archiver may stop for the whole window, 50 h, and a
# week-long replay still fits; past it the oldest are dropped and counted in /status); and how
# often the archiver runs (celery beat).
ARGUS_HISTORY_DAYS = env_int("ARGUS_HISTORY_DAYS", 30)
ARGUS_HISTORY_BUFFER_SLOTS = env_int("ARGUS_HISTORY_BUFFER_SLOTS", 2016)
ARGUS_HISTORY_ARCHIVE_SECONDS = env_int("ARGUS_HISTORY_ARCHIVE_SECONDS", 30)
if ARGUS_HISTORY_BUFFER_SLOTS < ARGUS_WINDOW_SLOTS:
    raise ImproperlyConfigured("ARGUS_HISTORY_BUFFER_SLOTS must be at least ARGUS_WINDOW_SLOTS: an "
                               "archiver stopped for less than the window must lose nothing")

# Django reads the body only after our own size check, which answers 413 itself.
DATA_UPLOAD_MAX_MEMORY_SIZE = ARGUS_MAX_BODY_BYTES

# --- Celery (workers run the model; web processes only enqueue) ------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True  # results go to the prediction cache, not a result backend
CELERY_TASK_SERIALIZER = "json"  # pickle + root makes Celery refuse to start
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "inference"
CELERY_TASK_ROUTES = {"inference.tasks.*": {"queue": "inference"}, "history.tasks.*": {"queue": "history"},
                      "timeline.tasks.*": {"queue": "history"}, "registry.tasks.*": {"queue": "training"}}
# celery beat (the Procfile's `beat`, one per installation) sends the archiver every
# ARGUS_HISTORY_ARCHIVE_SECONDS, unless one still waits in the queue (history.beat: a stopped
# worker never comes back to a backlog); its schedule lives in memory, no file to keep.
CELERY_BEAT_SCHEDULER = "history.beat:Scheduler"
CELERY_BEAT_SCHEDULE = {
    "archive-history": {"task": "history.tasks.archive_history", "schedule": ARGUS_HISTORY_ARCHIVE_SECONDS,
                        "options": {"queue": "history"}},
    # alert events older than ARGUS_HISTORY_DAYS (timeline.retention); hourly is plenty for days
    "expire-alert-events": {"task": "timeline.tasks.expire_alert_events", "schedule": 3600,
                            "options": {"queue": "history"}},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # one task at a time per process
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged after it ran, so a killed worker's run is redone
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Hard and soft limits for one team's run (a 10,000-server fleet on CPU takes well under this).
ARGUS_RUN_TIME_LIMIT = env_int("ARGUS_RUN_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = ARGUS_RUN_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = ARGUS_RUN_TIME_LIMIT - 10
# Seconds a team's run lock lives unless its task renews it (every third of this while it runs):
# a run cut off by a Redis outage or a frozen worker blocks the team's next run this long at most.
ARGUS_RUN_LEASE = env_int("ARGUS_RUN_LEASE", 30)
# An unacknowledged task (its worker died) goes back to the queue after this long.
# Celery's queue keys carry the installation prefix too (kombu's global_keyprefix).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": ARGUS_RUN_TIME_LIMIT + 60,
                                   "global_keyprefix": f"{ARGUS_REDIS_PREFIX}:celery:"}
# A new pool process imports torch and loads the model (6-10 s); Celery's default 4 s would
# kill and respawn it forever.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Inference ---------------------------------------------------------------------------------
# Model directory: the model committed with the code unless set (loading unpickles: trusted
# directories only).
ARGUS_MODEL_DIR = Path(env_str("ARGUS_MODEL_DIR", "") or BASE_DIR / "inference" / "default_model")
# Models per team (registry/): a worker keeps at most this many loaded (least recently used go).
ARGUS_MAX_LOADED_MODELS = env_int("ARGUS_MAX_LOADED_MODELS", 8)
if ARGUS_MAX_LOADED_MODELS < 1:
    raise ImproperlyConfigured("ARGUS_MAX_LOADED_MODELS must be at least 1")
# Fine-tuning (the trainer process, queue "training"): the newest days of a team's history held
# out for the backtest that decides promotion, the margin by which a candidate must beat the
# active model there, and bounds on one job.
ARGUS_BACKTEST_DAYS = env_int("ARGUS_BACKTEST_DAYS", 2)
ARGUS_PROMOTION_MARGIN = float(env_str("ARGUS_PROMOTION_MARGIN", "0.02"))
ARGUS_TRAIN_MAX_MINUTES = float(env_str("ARGUS_TRAIN_MAX_MINUTES", "60"))
ARGUS_TRAIN_MAX_SERVERS = env_int("ARGUS_TRAIN_MAX_SERVERS", 200)
ARGUS_TRAIN_BATCHES_PER_EPOCH = env_int("ARGUS_TRAIN_BATCHES_PER_EPOCH", 30)
ARGUS_TRAIN_LEARNING_RATE = float(env_str("ARGUS_TRAIN_LEARNING_RATE", "0.001"))
ARGUS_TRAINER_THREADS = env_int("ARGUS_TRAINER_THREADS", 1)
# A team's newest non-active models whose weights are kept to roll back to (older ones keep
# their row and figures; registry.retention).
ARGUS_KEEP_MODELS = env_int("ARGUS_KEEP_MODELS", 10)
if ARGUS_BACKTEST_DAYS < 1 or not 0 <= ARGUS_PROMOTION_MARGIN < 1:
    raise ImproperlyConfigured("ARGUS_BACKTEST_DAYS must be at least 1 and ARGUS_PROMOTION_MARGIN in [0, 1)")
# "cuda", "cpu" or empty for automatic (CUDA when present).
ARGUS_DEVICE = env_str("ARGUS_DEVICE", "")
# torch threads per worker process; keep threads x processes <= cores.
ARGUS_TORCH_THREADS = env_int("ARGUS_TORCH_THREADS", 1)
# Servers per forward pass (bounds memory for large fleets).
ARGUS_INFERENCE_CHUNK = env_int("ARGUS_INFERENCE_CHUNK", 128)
# Servers a run reads, aligns and forecasts at a time: a worker holds the arrays of one chunk
# (about 20 KB a server before forecasting), not of the whole fleet.
ARGUS_RUN_CHUNK = env_int("ARGUS_RUN_CHUNK", 1024)
# Sharded runs (inference.sharding): a team with more servers than this has its run split into
# shards of this many servers, forecast by any free inference workers in parallel and merged into
# one document; a smaller team runs in one task. 0 never splits. A shard's part travels through
# Redis in one call of about 35 KB a server.
ARGUS_SHARD_SERVERS = env_int("ARGUS_SHARD_SERVERS", 2000)
if ARGUS_SHARD_SERVERS < 0:
    raise ImproperlyConfigured("ARGUS_SHARD_SERVERS must be 0 (never split) or a number of servers")
# A server whose newest point lags the team's newest by more than this (data time) is stale.
ARGUS_STALE_SECONDS = env_int("ARGUS_STALE_SECONDS", 3600)
# Gaps up to this many seconds are filled; longer ones mark the server as gappy.
ARGUS_MAX_FILL_SECONDS = env_int("ARGUS_MAX_FILL_SECONDS", 1800)
# Seconds a team's prediction and alert documents live after their last run (default: as long
# as a silent server's window).
ARGUS_PREDICTIONS_TTL = env_int("ARGUS_PREDICTIONS_TTL", ARGUS_SERVER_TTL)
# Live forecast accuracy (inference.accuracy): a run keeps its forecasts for scoring when its
# server's newest slot is a multiple of this (1 = every run; 3 = every 15 minutes of data), which
# bounds what waits in Redis for its actual value to about 12 KB / this per server.
ARGUS_ACCURACY_ORIGIN_SLOTS = env_int("ARGUS_ACCURACY_ORIGIN_SLOTS", 3)
if ARGUS_ACCURACY_ORIGIN_SLOTS < 1:
    raise ImproperlyConfigured("ARGUS_ACCURACY_ORIGIN_SLOTS must be at least 1")
# Predictions older than this (wall clock) are reported as stale by /status.
ARGUS_PREDICTIONS_STALE_SECONDS = env_int("ARGUS_PREDICTIONS_STALE_SECONDS", 900)

# --- API keys (admin) ----------------------------------------------------------------------------
# Rotating a key in admin creates its replacement (shown once) and lets the old key work this
# many more seconds, so that feeders can be moved to the new one without a gap (a day: one
# working day to redeploy; 0 revokes the old key at once). The old key expires then.
ARGUS_KEY_ROTATION_GRACE_SECONDS = env_int("ARGUS_KEY_ROTATION_GRACE_SECONDS", 24 * 3600)
if ARGUS_KEY_ROTATION_GRACE_SECONDS < 0:
    raise ImproperlyConfigured("ARGUS_KEY_ROTATION_GRACE_SECONDS must be 0 or more")

# --- Operations ----------------------------------------------------------------------------------
# GET /metrics (Prometheus exposition) answers only when this is set, and only to requests with
# `Authorization: Bearer <token>`; unset, /metrics is a 404. At least 16 characters: a scrape
# token is a password.
ARGUS_METRICS_TOKEN = env_str("ARGUS_METRICS_TOKEN", "")
if ARGUS_METRICS_TOKEN and len(ARGUS_METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("ARGUS_METRICS_TOKEN: at least 16 characters (python -c 'import secrets; "
                               "print(secrets.token_urlsafe(32))')")

# --- Dashboard ---------------------------------------------------------------------------------
# Seconds between the fleet page's refreshes (it fetches one JSON document; no page reload).
ARGUS_DASHBOARD_REFRESH_SECONDS = env_int("ARGUS_DASHBOARD_REFRESH_SECONDS", 15)

# --- Notifications (notify/: alert transitions to Alertmanager and team webhooks) ----------------
# Alertmanager's base URL, e.g. http://alertmanager:9093 (its v2 API); empty: not used.
ARGUS_ALERTMANAGER_URL = env_str("ARGUS_ALERTMANAGER_URL", "")
# Seconds between notifier passes (celery beat): firing alerts re-sent to Alertmanager (each ending
# 4 passes ahead unless re-sent), webhook retries that are due, outboxes drained.
ARGUS_NOTIFY_SECONDS = env_int("ARGUS_NOTIFY_SECONDS", 60)
# Seconds an HTTP call to Alertmanager or a webhook may wait to connect, and then for each read.
ARGUS_NOTIFY_TIMEOUT = env_int("ARGUS_NOTIFY_TIMEOUT", 5)
# Transitions a team's outbox holds for the notifier (the oldest go past it).
ARGUS_NOTIFY_OUTBOX_MAX = env_int("ARGUS_NOTIFY_OUTBOX_MAX", 10_000)
# Tries of one webhook delivery, the wait before the first retry (doubling each time, at most an
# hour), deliveries pending per webhook before new ones are recorded as failed unsent, and the
# days delivered and failed deliveries are kept (admin).
ARGUS_WEBHOOK_MAX_ATTEMPTS = env_int("ARGUS_WEBHOOK_MAX_ATTEMPTS", 8)
ARGUS_WEBHOOK_RETRY_SECONDS = env_int("ARGUS_WEBHOOK_RETRY_SECONDS", 30)
ARGUS_WEBHOOK_MAX_PENDING = env_int("ARGUS_WEBHOOK_MAX_PENDING", 1000)
ARGUS_WEBHOOK_KEEP_DAYS = env_int("ARGUS_WEBHOOK_KEEP_DAYS", 7)
if ARGUS_NOTIFY_SECONDS < 1 or ARGUS_WEBHOOK_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("ARGUS_NOTIFY_SECONDS and ARGUS_WEBHOOK_MAX_ATTEMPTS must be at least 1")
# The `notify` queue: its own worker (the Procfile's `notifier`), so that a slow endpoint never
# holds a prediction run. A pass waiting longer than an interval is dropped (notify.tasks).
CELERY_TASK_ROUTES["notify.tasks.*"] = {"queue": "notify"}
# urllib3 (under requests) logs each request's URL at DEBUG; a webhook URL may carry a token.
LOGGING.setdefault("loggers", {})["urllib3.connectionpool"] = {"level": "INFO"}
CELERY_BEAT_SCHEDULE["notify"] = {"task": "notify.tasks.notify_all", "schedule": ARGUS_NOTIFY_SECONDS,
                                  "options": {"queue": "notify", "expires": ARGUS_NOTIFY_SECONDS}}
