"""Default settings. A clinic overrides them in instance/config.py or as INTAKE_<NAME>."""

from datetime import timedelta

# The clinic. No clinic is built in: these are placeholders a clinic replaces.
CLINIC_NAME = "The Pain Clinic"
CLINIC_PHONE = "(555) 555-0100"
CLINIC_TIMEZONE = "America/New_York"
#: Where an unprefixed phone number is from (ISO 3166 region).
PHONE_REGION = "US"
#: Crisis lines shown on every page and the support page (US numbers by default).
EMERGENCY_NUMBER = "911"
CRISIS_LINE = "988"

#: How long a resume link works, from when it is made.
RESUME_LINK_DAYS = 7
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
#: Mail is sent only when MAIL_SERVER is set; the sender is neutral.
MAIL_SERVER: str | None = None
MAIL_DEFAULT_SENDER = "no-reply@clinic.invalid"

#: Licensed instruments a clinic may switch off (questionnaire.md, licence notes).
STOP_BANG_ENABLED = True
DAST10_ENABLED = True
#: *policy*: a "no" to DAST-10 item 1 scores 0 and skips items 2-10.
DAST_SKIP = True

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

#: Patient-facing copy, per language. Every default is awaiting the clinic's clinical
#: review until the clinic replaces it (README lists them); the Spanish crisis text is
#: the spec's, the other Spanish texts are translations of the English. Placeholders:
#: {minutes}, {clinic_name}, {clinic_phone}, {reference}, {crisis_line},
#: {emergency_number}.
PATIENT_COPY = {
    "landing": {
        "en": (
            "This questionnaire helps the clinic's doctors learn about your pain and your "
            "health before a visit. It takes about {minutes} minutes. Your answers are "
            "saved after every page, so you can stop and come back. It does not diagnose "
            "any condition, and a doctor will review your answers."
        ),
        "es": (
            "Este cuestionario ayuda a los médicos de la clínica a conocer su dolor y su "
            "salud antes de una visita. Toma unos {minutes} minutos. Sus respuestas se "
            "guardan después de cada página, así que puede parar y volver más tarde. No "
            "diagnostica ninguna enfermedad, y un médico revisará sus respuestas."
        ),
    },
    "side_effects": {
        "en": (
            "If your doctor recommends ketamine infusions: common side effects include "
            "nausea or vomiting, dizziness or light-headedness, blurred or double vision, "
            "headache, tiredness or drowsiness, mild hallucinations or vivid dreams, a "
            "faster heartbeat or higher blood pressure, and mood changes. They are usually "
            "mild and pass within a few hours or days. Rarely, more serious effects such as "
            "seizures or allergic reactions can happen. The clinic monitors you during "
            "every infusion."
        ),
        "es": (
            "Si su médico le recomienda infusiones de ketamina: los efectos secundarios "
            "comunes incluyen náuseas o vómitos, mareos o sensación de desmayo, visión "
            "borrosa o doble, dolor de cabeza, cansancio o somnolencia, alucinaciones leves "
            "o sueños muy vívidos, latidos más rápidos o presión arterial más alta, y "
            "cambios en el estado de ánimo. Por lo general son leves y se pasan en unas "
            "horas o unos días. En raras ocasiones pueden ocurrir efectos más graves, como "
            "convulsiones o reacciones alérgicas. La clínica le vigila durante cada infusión."
        ),
    },
    "visit": {
        "en": (
            "If your doctor recommends ketamine infusions, each visit usually takes about "
            "6 hours (about 4 hours of infusion and 2 hours of recovery), and some patients "
            "later have maintenance infusions every 6–8 weeks."
        ),
        "es": (
            "Si su médico le recomienda infusiones de ketamina, cada visita suele durar unas "
            "6 horas (unas 4 horas de infusión y 2 horas de recuperación), y algunos "
            "pacientes reciben después infusiones de mantenimiento cada 6 a 8 semanas."
        ),
    },
    "privacy": {
        "en": (
            "Your answers are stored securely by {clinic_name} and are read only by the "
            "clinic's care team. They are used to prepare for your visit."
        ),
        "es": (
            "{clinic_name} guarda sus respuestas de forma segura, y solo las lee el equipo "
            "de atención de la clínica. Se usan para preparar su visita."
        ),
    },
    "crisis": {
        "en": (
            "Thank you for telling us. Your answers are not read right away. If you are "
            "thinking about hurting yourself, or might act on these thoughts, please get "
            "help now: call or text **{crisis_line}** (Suicide & Crisis Lifeline, free, 24 "
            "hours a day), or call **{emergency_number}** if you are in danger. You can "
            "also call the clinic at {clinic_phone} during office hours. You can go on "
            "with the questionnaire when you are ready."
        ),
        "es": (
            "Gracias por decírnoslo. Sus respuestas no se leen de inmediato. Si está "
            "pensando en hacerse daño, o podría actuar según estos pensamientos, busque "
            "ayuda ahora: llame o envíe un mensaje de texto al **{crisis_line}** (Línea de "
            "Prevención del Suicidio y Crisis, gratis, las 24 horas; para español, oprima "
            "2), o llame al **{emergency_number}** si está en peligro. También puede llamar "
            "a la clínica al {clinic_phone} en horario de oficina. Puede continuar con el "
            "cuestionario cuando esté listo o lista."
        ),
    },
    "adults_only": {
        "en": (
            "This questionnaire is for adults (18 and over). Please ask a parent or "
            "guardian to call the clinic at {clinic_phone}."
        ),
        "es": (
            "Este cuestionario es para adultos (de 18 años o más). Pida a su madre, padre o "
            "tutor que llame a la clínica al {clinic_phone}."
        ),
    },
    "confirmation": {
        "en": (
            "Thank you. Your answers have been sent to the clinic. Your reference is "
            "{reference}. A member of the clinic's team will review them and contact you. "
            "Your answers are not read right away: if you need help urgently, call "
            "{emergency_number} (or call or text {crisis_line} in a mental-health crisis)."
        ),
        "es": (
            "Gracias. Sus respuestas se enviaron a la clínica. Su número de referencia es "
            "{reference}. Una persona del equipo de la clínica las revisará y se comunicará "
            "con usted. Sus respuestas no se leen de inmediato: si necesita ayuda urgente, "
            "llame al {emergency_number} (o llame o envíe un mensaje de texto al "
            "{crisis_line} si tiene una crisis de salud mental)."
        ),
    },
}
#: Copy keys (per language) the clinic has signed off; everything else is shown as the
#: default and listed in the README as awaiting clinical review.
PATIENT_COPY_REVIEWED: tuple[str, ...] = ()

# Registers the bare baseline routes `make bench` compares against. Never set in production.
BENCHMARK_ROUTES = False
