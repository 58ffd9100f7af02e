"""Application factory: config → extensions → blueprints → CLI → hooks."""
import os

from flask import Flask, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.config import DefaultConfig, load_or_create_secret_key, resolve_database_url
from core.extensions import babel, csrf, db, login_manager, migrate
from core.params import IdConverter


def select_locale() -> str:
    """The language chosen with the switch, else Simplified Chinese (whatever the browser prefers)."""
    from flask import current_app, has_request_context
    if has_request_context() and request.path.startswith("/api/v1/"):
        return api_locale()
    if has_request_context() and session.get("language") in current_app.config["LANGUAGES"]:
        return session["language"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def api_locale() -> str:
    """The JSON API keeps no session: its messages follow Accept-Language (zh… or en…), else Chinese."""
    from flask import current_app
    for language, quality in request.accept_languages:  # best first
        tag = language.lower()
        if quality > 0 and tag.startswith("zh"):
            return "zh_Hans"
        if quality > 0 and tag.startswith("en"):
            return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; ``test_config`` overrides every other source of configuration."""
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter  # ids beyond what a column holds are a 404 in every route
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("JIANYAN")
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    app.config.setdefault("SEARCH_INDEX_DIR", os.path.join(app.instance_path, "search-index"))
    app.config.setdefault("ROUTER_DIR", os.path.join(app.instance_path, "router"))
    app.config.setdefault("SIMILARITY_INDEX_DIR", os.path.join(app.instance_path, "similarity"))
    app.config.setdefault("EDITION_LOGO_DIR", os.path.join(app.instance_path, "editions"))
    app.config.setdefault("SAME_ISSUE_MODEL", os.path.join(app.instance_path, "same_issue_model.json"))
    app.config["SQLALCHEMY_DATABASE_URI"] = resolve_database_url(
        app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL"), app.instance_path)

    from core import logs
    from core.web import BoundedJSONProvider, reject_unusable_input
    logs.configure(app)  # first, so that every request has its id, even one refused below
    from ops import metrics
    metrics.install(app)  # and is counted and timed
    app.json = BoundedJSONProvider(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.before_request(reject_unusable_input)  # before CSRFProtect reads the form
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_hooks(app)
    return app


def _init_extensions(app: Flask) -> None:
    from accounts.services import configure_password_hasher
    from core import ratelimit
    from core.database import configure_sqlite

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    ratelimit.configure(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    login_manager.login_message = _l("Please log in first; you will come back to this page afterwards.")
    configure_password_hasher(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"])
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    _import_models()


def _import_models() -> None:
    """Every model module, so that metadata (and Alembic) sees every table."""
    import accounts.models  # noqa: F401
    import analytics.models  # noqa: F401
    import api.models  # noqa: F401
    import campaigns.models  # noqa: F401
    import core.audit  # noqa: F401
    import core.mail  # noqa: F401
    import core.sms  # noqa: F401
    import drafts.models  # noqa: F401
    import editions.models  # noqa: F401
    import moderation.models  # noqa: F401
    import outcomes.models  # noqa: F401
    import search.models  # noqa: F401
    import suggestions.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from accounts.admin import bp as accounts_admin_bp
    from accounts.staff_views import bp as accounts_staff_bp
    from accounts.views import bp as accounts_bp
    from analytics.open_data_views import bp as open_data_bp
    from analytics.views import bp as analytics_bp
    from api.token_views import bp as api_tokens_bp
    from api.views import bp as api_bp
    from campaigns.views import bp as campaigns_bp
    from campaigns.views import home
    from drafts.views import bp as drafts_bp
    from editions.views import bp as editions_bp
    from moderation.views import bp as moderation_bp
    from ops.views import bp as ops_bp
    from outcomes.views import bp as outcomes_bp
    from search.views import bp as search_bp
    from suggestions.cluster_views import bp as clusters_bp
    from suggestions.views import bp as suggestions_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(accounts_admin_bp)
    app.register_blueprint(accounts_staff_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(suggestions_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(outcomes_bp)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(open_data_bp)
    app.register_blueprint(clusters_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # authenticated by bearer token only, never by the session cookie (api/views.py)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(editions_bp)
    app.register_blueprint(drafts_bp)
    app.add_url_rule("/", endpoint="home", view_func=home)
    # Browsers and WeChat ask for /favicon.ico whatever the page's <link rel="icon"> says.
    app.add_url_rule("/favicon.ico", endpoint="favicon",
                     view_func=lambda: app.send_static_file("favicon.ico"))


def _register_cli(app: Flask) -> None:
    from accounts.cli import cli as accounts_cli
    from analytics.cli import analytics_cli
    from core.cli import jobs_cli, mail_cli
    from demo.cli import cli as demo_cli
    from drafts.cli import cli as drafts_cli
    from editions.cli import cli as editions_cli
    from moderation.cli import cli as moderation_cli
    from ops.backup import cli as backup_cli
    from search.cli import cli as search_cli
    from suggestions.cli import cli as suggestions_cli

    app.cli.add_command(accounts_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(editions_cli)
    app.cli.add_command(drafts_cli)
    app.cli.add_command(suggestions_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(analytics_cli)
    app.cli.add_command(moderation_cli)
    app.cli.add_command(backup_cli)


def _register_hooks(app: Flask) -> None:
    from accounts.models import User
    from core import templating
    from core.web import add_security_headers, register_error_handlers

    @login_manager.user_loader
    def load_user(token: str):
        """The session's user, read afresh on every request: a deactivated account, or a cookie from before a
        logout, password change or deactivation (older session version), is anonymous. Roles and memberships are
        read here too, so a change takes effect at the user's next request."""
        user_id, _, version = token.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user

    from core import mail, page_cache
    from search import indexing
    indexing.install(app)
    from drafts import services as draft_services
    draft_services.install()
    mail.install(app)
    page_cache.install(app)
    register_error_handlers(app)
    app.after_request(add_security_headers)
    templating.init_app(app)
    app.jinja_env.globals["get_locale"] = get_locale
