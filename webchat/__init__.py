"""webchat: an accessible, server-rendered real-time chat (Quart, htmx, Server-Sent Events)."""

from __future__ import annotations

from pathlib import Path

from quart import Quart, g
from quart_auth import QuartAuth

from webchat.config import Settings, load_settings
from webchat.ratelimit import DEFAULT_LIMITS, Limit

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> Quart:
    from webchat import db, errors, security
    from webchat.accounts import sessions
    from webchat.runtime import Runtime

    settings = settings or load_settings()
    app = Quart(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=security.MAX_BODY,
        MAX_FORM_MEMORY_SIZE=security.MAX_BODY,
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_SAMESITE="Lax",
        QUART_AUTH_COOKIE_SECURE=settings.production,
        QUART_AUTH_COOKIE_NAME=("__Host-" if settings.production else "") + "webchat_session",
        QUART_AUTH_DURATION=30 * 24 * 3600,
        WEBCHAT_PRODUCTION=settings.production,
        RATE_LIMITS={**DEFAULT_LIMITS, **{name: Limit(*value) for name, value in settings.limit_overrides.items()}},
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    QuartAuth(app)

    from webchat.render import Renderer, init_jinja

    init_jinja(app.jinja_env)
    runtime = Runtime(settings)
    runtime.renderer = Renderer(app.jinja_env)
    runtime.limits = app.config["RATE_LIMITS"]
    app.extensions["webchat"] = runtime

    @app.before_serving
    async def startup() -> None:
        await db.open_database(settings.database_url)
        await runtime.start()
        from webchat.live import background

        background.start(app, runtime)

    @app.after_serving
    async def shutdown() -> None:
        await runtime.stop()
        await db.close_database()

    @app.before_request
    async def bind_runtime() -> None:
        g.runtime = runtime

    app.before_request(sessions.load_user)
    app.after_request(sessions.set_device_cookie)
    security.init_app(app)
    errors.init_app(app)

    from webchat import pages
    from webchat.accounts.views import bp as accounts_bp
    from webchat.messages.views import bp as messages_bp
    from webchat.rooms.views import bp as rooms_bp

    for blueprint in (pages.bp, accounts_bp, rooms_bp, messages_bp):
        app.register_blueprint(blueprint)

    from webchat import streams
    from webchat.live.asgi import StreamTransport

    runtime.auditor = streams.sweep
    runtime.replay_frames = streams.ReplayFrames()
    app.asgi_app = StreamTransport(
        app.asgi_app, runtime, streams, sessions.cookie_reader(app),
        security.response_headers(settings.production), errors.unavailable_part,
    )
    if settings.production:
        from webchat.proxy import OneTrustedHop

        # Heroku's router is one hop: trust its X-Forwarded-For/-Proto entry, nothing before it.
        app.asgi_app = OneTrustedHop(app.asgi_app)
    return app
