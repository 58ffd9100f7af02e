"""Flask extensions, created unbound here and bound in ``create_app``."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from core.models import Base


class Database(SQLAlchemy):
    """Flask-SQLAlchemy whose ``paginate`` reads the page number through ``core.params.page_number``, so no
    list can be asked for a page whose offset the database cannot hold."""

    def paginate(self, select, *, page=None, **kwargs):
        from core.params import page_number
        return super().paginate(select, page=page if page is not None else page_number(), **kwargs)


db = Database(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def _address_key() -> str:
    """Limits that name no key of their own count per client address, as every per-address limit does."""
    from core.ratelimit import address_key  # core.ratelimit imports this module
    return address_key()


# Bound by core.ratelimit.configure: counters in a store every worker shares (a SQLite file, or Redis).
limiter = Limiter(key_func=_address_key)
