"""The extension objects, made here once and wired to the app by create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
talisman = Talisman()
login_manager = LoginManager()
#: Per-address limits (staff sign-in, new patient drafts), kept in RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)
