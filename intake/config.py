"""Default settings. A clinic overrides them in instance/config.py or as INTAKE_<NAME>."""

from datetime import timedelta

from intake.policy import DEFAULT_POLICY as spec  # lower case: not a setting itself

# The clinic. No clinic is built in: these are placeholders a clinic replaces.
CLINIC_NAME = "The Pain Clinic"
CLINIC_PHONE = "(555) 555-0100"
CLINIC_TIMEZONE = "America/New_York"
#: Where an unprefixed phone number is from (ISO 3166 region).
PHONE_REGION = "US"
#: Crisis lines shown on every page and the support page (US numbers by default).
EMERGENCY_NUMBER = "911"
CRISIS_LINE = "988"

#: Business days within which the done page tells the patient the clinic will contact
#: them (0: the page names no time).
CONTACT_WITHIN_DAYS = 2

#: How long a resume link works, from when it is made.
RESUME_LINK_DAYS = 7
#: How long a follow-up link works, made by staff or sent in an invitation (followup.md
#: §2); also how late an invitation may still go when an infusion is recorded late.
FOLLOWUP_LINK_DAYS = 14
#: Days after the newest infusion (by its date) that the follow-up is offered; [] sends
#: no invitations.
FOLLOWUP_AFTER_DAYS: list[int] = [7, 28]
#: Days after an invitation that one reminder goes if the follow-up is not started (0: none).
FOLLOWUP_REMINDER_DAYS = 3
#: Clinic time from which a day's invitations and reminders are sent ("HH:MM").
FOLLOWUP_SEND_AT = "09:00"
#: Wrong dates of birth before a resume link is locked.
RESUME_MAX_FAILURES = 5
#: A patient session ends this long after the draft's last save (reading pages does not
#: extend it); the draft stays saved. The session cookie and the patient's CSRF token
#: last as long (intake/settings.py).
PATIENT_IDLE_TIMEOUT = timedelta(hours=4)

#: New drafts one address may start (Flask-Limiter syntax), kept in RATELIMIT_STORAGE_URI.
NEW_DRAFT_LIMIT = "10 per hour"
#: Networks whose addresses start drafts without that limit (a waiting-room tablet, the
#: clinic's own network), e.g. ["192.0.2.0/24"].
NEW_DRAFT_LIMIT_EXEMPT: list[str] = []
#: The address patients reach this site at (e.g. "https://intake.clinic.example"): every
#: link the app sends is built from it, never from a request's Host. Required with
#: MAIL_SERVER or FORCE_HTTPS.
PUBLIC_BASE_URL: str | None = None

#: Addresses told (without health information) that an urgent draft is waiting.
URGENT_NOTIFY_TO: list[str] = []
#: Urgent notices: at most one email in this long, listing every new one (the log gets
#: each at once).
URGENT_NOTICE_INTERVAL = timedelta(minutes=5)
#: Resume-link emails one draft, and one address, may be sent in an hour.
RESUME_EMAILS_PER_HOUR = 3

# Email, sent by the job consumer from the outbox (intake/mail.py). Mail is sent only when
# MAIL_SERVER is set; the sender is neutral.
MAIL_SERVER: str | None = None
MAIL_PORT = 25
#: STARTTLS on MAIL_PORT (typically 587), or TLS from the start (typically 465).
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME: str | None = None
MAIL_PASSWORD: str | None = None
MAIL_DEFAULT_SENDER = "no-reply@clinic.invalid"
#: Seconds the mail server has to answer each step (connecting, its greeting, each command).
MAIL_TIMEOUT: float = 10
#: Tries before an email is given up (logged CRITICAL); the first retry waits this long,
#: each next one twice as long, at most an hour.
MAIL_MAX_ATTEMPTS = 10
MAIL_RETRY_WAIT = timedelta(minutes=1)

# Jobs: exports, email and the nightly upkeep run in a job consumer (`flask --app intake
# jobs`; `make run` starts one beside the web server).
#: The queue: empty is instance/jobs.sqlite (one server); "redis://127.0.0.1:6379/1" is
#: shared by several servers.
JOBS_URL = ""
#: Threads one consumer runs jobs on.
JOBS_WORKERS = 2
#: Run each job inside the request that asks for it, with no consumer (tests only: the
#: request then waits for it).
JOBS_IMMEDIATE = False
#: Where staff-page exports are written (empty: instance/exports); with several servers,
#: a mount they all share.
EXPORT_DIR: str | None = None
#: An export's file is deleted this long after it is ready.
EXPORT_RETENTION_HOURS = 24
#: Processes a PDF export draws pages on (0: one per core).
EXPORT_PDF_PROCESSES = 0
#: The nightly upkeep, at these clinic times ("HH:MM"); an empty one is switched off.
PURGE_DRAFTS_AT = "02:30"
BACKUP_AT = "03:00"
VERIFY_AUDIT_AT = "03:30"
#: Where nightly backups go (empty: instance/backups), and how many are kept.
BACKUP_DIR: str | None = None
BACKUP_KEEP = 7

# The clinic's policy (intake/policy.py keeps the spec's defaults; a change here changes
# the rules' version, so each stored score says which rules made it).
#: Licensed instruments a clinic may switch off (questionnaire.md, licence notes).
STOP_BANG_ENABLED = spec.stop_bang_enabled
DAST10_ENABLED = spec.dast10_enabled
#: *policy*: a "no" to DAST-10 item 1 scores 0 and skips items 2-10.
DAST_SKIP = spec.dast_skip
#: *policy*: a blood pressure at or above these (mmHg) holds scheduling.
BP_HOLD_SYSTOLIC = spec.bp_systolic_hold
BP_HOLD_DIASTOLIC = spec.bp_diastolic_hold
#: *policy*: a DAST-10 answered sum at or above this holds scheduling.
SUD_DAST_THRESHOLD = spec.sud_dast_threshold
#: *policy*: the pregnancy questions are asked up to and including this age.
PREGNANCY_MAX_AGE = spec.pregnancy_max_age

#: Where the PDF's DejaVu fonts are, when not in Debian's fonts-dejavu-core directory.
PDF_FONT_DIR: str | None = None

#: Base URL of the FHIR canonical for the Questionnaire resource.
FHIR_BASE_URL = "https://clinic.invalid/fhir"

#: Days after its last save that `purge-drafts` deletes an abandoned draft.
DRAFT_RETENTION_DAYS = 60
#: `demo-data` adds fictional submissions only when this is set (INTAKE_ALLOW_DEMO_DATA=1).
ALLOW_DEMO_DATA = False

#: The host names this site answers to (e.g. ["intake.clinic.example"]); any other Host
#: header gets 400. None accepts any (development only).
TRUSTED_HOSTS: list[str] | None = None
#: Behind a reverse proxy: how many proxies set X-Forwarded-For / -Proto (Werkzeug's
#: ProxyFix). 0 trusts no forwarded header, so a client cannot choose its own address.
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0

# Staff accounts and sessions.
#: A staff session ends after this long without a request, and this long in all.
STAFF_IDLE_TIMEOUT = timedelta(minutes=15)
STAFF_ABSOLUTE_TIMEOUT = timedelta(hours=12)
#: Sign-in attempts from one address (Flask-Limiter syntax), and where the limiter keeps
#: its counts: "memory://" for one process, e.g. "redis://127.0.0.1:6379" for several.
LOGIN_RATE_LIMIT = "5 per minute"
RATELIMIT_STORAGE_URI = "memory://"
#: A refused attempt (429) says when to try again (Retry-After).
RATELIMIT_HEADERS_ENABLED = True
#: Failed sign-ins to one account within the window that lock it, and for how long.
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128

# The audit chain's HMAC key (empty: instance/audit_key) and its head, kept outside the
# database.
AUDIT_KEY: str | None = None
AUDIT_HEAD_FILE: str | None = None
#: Empty: a file, AUDIT_HEAD_FILE or instance/audit_head (one server). Several servers on
#: one database share it instead in Redis, e.g. "redis://127.0.0.1:6379", under AUDIT_HEAD_KEY.
AUDIT_HEAD_URI = ""
AUDIT_HEAD_KEY = "intake:audit_head"

# Security. The secret key lives in instance/secret_key (see models.ensure_secret_key).
MAX_CONTENT_LENGTH = 1024 * 1024
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
#: Set True in production (served over HTTPS): cookies then travel only over TLS.
SESSION_COOKIE_SECURE = False
#: Set True in production to redirect HTTP to HTTPS and send HSTS.
FORCE_HTTPS = False
SQLALCHEMY_ECHO = False
#: Seconds SQLite waits for a write lock before the request is answered with 503.
SQLITE_BUSY_TIMEOUT: float = 5

BABEL_DEFAULT_LOCALE = "en"
#: Where the catalogs are, beside the package (each language's compiled .mo is checked at
#: start-up).
BABEL_TRANSLATION_DIRECTORIES = "translations"
BABEL_DEFAULT_TIMEZONE = "UTC"
LANGUAGES: tuple[str, ...] = ("en", "es")

#: The clinic's own patient copy, replacing defaults (intake/clinic.py COPY), per key and
#: language: {"visit": {"en": "…", "es": "…"}}; a language not given shows the English.
PATIENT_COPY: dict[str, dict[str, str]] = {}
#: Copy keys (per language) the clinic has signed off; everything else is shown as the
#: default and listed in the README as awaiting clinical review.
PATIENT_COPY_REVIEWED: tuple[str, ...] = ()

# Registers the bare baseline routes `make bench` compares against. Never set in production.
BENCHMARK_ROUTES = False
