"""create_app(): the one place where the parts are put together (configuration, the live runtime and its hooks, blueprints, the stream transport)."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from quart import Quart
from quart_auth import QuartAuth

from webchat import db, errors, language, pages, security, streams, web
from webchat import script_strings
from webchat.accounts import people, sessions
from webchat.accounts.profile import bp as profile_bp
from webchat.accounts.views import bp as accounts_bp
from webchat.api import outgoing
from webchat.api.hooks import bp as hooks_bp
from webchat.api.pages import bp as api_pages_bp
from webchat.api.reference import init_openapi
from webchat.api.views import bp as api_bp
from webchat.admin import site
from webchat.admin.views import bp as admin_bp
from webchat.admin.views import members_bp as invites_bp
from webchat.config import Settings, load_settings
from webchat.files import service as files_service
from webchat.files import storage as files_storage
from webchat.files.views import bp as files_bp
from webchat.live.asgi import StreamTransport
from webchat.live.core import Hooks
from webchat.live.entry import Entry
from webchat.mail import digest, outbox
from webchat.mail.views import bp as mail_bp
from webchat.messages.views import bp as messages_bp
from webchat.proxy import OneTrustedHop
from webchat.ratelimit import DEFAULT_LIMITS, Limit
from webchat.render import Renderer, init_jinja
from webchat.rooms import broadcasts
from webchat.rooms.page import your_rooms
from webchat.rooms.moderation import bp as moderation_bp
from webchat.rooms.views import bp as rooms_bp
from webchat.search.views import bp as search_bp
from webchat.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
SITE_SECONDS = 30.0


def create_app(settings: Settings | None = None) -> Quart:
    settings = settings or load_settings()
    app = Quart(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The largest body at all: a message with its files (the request gate holds every other
        # body to security.MAX_BODY). Files are parsed in chunks to temporary files, not memory.
        MAX_CONTENT_LENGTH=files_service.MAX_FILES * settings.max_upload + security.MAX_BODY,
        WEBCHAT_UPLOAD_BODY=files_service.MAX_FILES * settings.max_upload + security.MAX_BODY,
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
    init_jinja(app.jinja_env)
    app.jinja_env.globals.update(initials=people.initials, avatar_colour=people.avatar_colour,
                                 max_files=files_service.MAX_FILES, max_upload=settings.max_upload,
                                 email_configured=settings.email)
    app.jinja_env.globals["script_strings"] = script_strings.for_page  # static/js's words in the page's language
    app.jinja_env.globals["your_rooms"] = your_rooms

    runtime = Runtime(settings, Renderer(app.jinja_env), app.config["RATE_LIMITS"])
    runtime.hooks = Hooks(
        presence_changed=partial(broadcasts.presence, runtime),
        typing_changed=partial(broadcasts.typing, runtime),
        unread_stale=partial(broadcasts.unread_refreshed, runtime),
        audit=partial(streams.sweep, runtime),
    )
    runtime.filler = partial(streams.fill, runtime)
    app.extensions["webchat"] = runtime

    @app.before_serving
    async def startup() -> None:
        script_strings.prepare()
        runtime.storage = files_storage.open_storage(settings.storage_url)
        files_storage.use(runtime.storage)
        await db.open_database(settings.database_url)
        await runtime.start()
        runtime.spawn(outgoing.worker(runtime.stopping, production=settings.production,
                                      allow_private=settings.webhook_private))
        runtime.spawn(files_service.sweep(runtime.storage, runtime.stopping))
        if settings.email:
            runtime.spawn(outbox.worker(runtime.stopping, settings.smtp_url, settings.smtp_from))
            runtime.spawn(digest.worker(runtime.stopping, runtime.renderer.env, secret=settings.secret_key,
                                        base_url=settings.public_url or f"http://localhost:{settings.port}",
                                        delay=settings.digest_delay))

    @app.after_serving
    async def shutdown() -> None:
        await runtime.stop()
        await db.close_database()

    init_openapi(app)
    app.before_request(sessions.load_user)
    app.before_request(language.choose_for_request)
    app.after_request(sessions.set_device_cookie)
    security.init_app(app)
    errors.init_app(app)
    for blueprint in (pages.bp, accounts_bp, rooms_bp, messages_bp, search_bp, api_pages_bp, api_bp, hooks_bp,
                      admin_bp, invites_bp, moderation_bp, profile_bp, files_bp, mail_bp,
                      language.bp):
        app.register_blueprint(blueprint)

    @app.context_processor
    async def site_settings() -> dict:
        """Every page shows the site's name (the room list its welcome message): read again
        only after a change, in any process (a version in Redis, one GET a page, moves), and at
        least every SITE_SECONDS (the only way while Redis is away). Who may register is read
        afresh each time (webchat.accounts.views)."""
        now = time.monotonic()
        version = await runtime.site_version_now()
        if (runtime.site is None or version != runtime.site_version
                or now - runtime.site_read > SITE_SECONDS):
            try:
                runtime.site = await site.settings(settings.registration)
                runtime.site_read = now
                runtime.site_version = version
            except Exception:  # the database away: the error page still renders, with the defaults
                return {"site": runtime.site or site.defaults(settings.registration)}
        return {"site": runtime.site}

    @app.context_processor
    def reader_clock() -> dict:
        """Every page's times in its reader's zone and clock (webchat.clock): one Clock per page."""
        return {"clock": web.reader_clock()}

    entry = Entry(runtime, streams, sessions.cookie_reader(app), security.response_headers(settings.production),
                  errors.unavailable_part)
    app.extensions["webchat.streams"] = entry  # for the front door (webchat.server)
    app.asgi_app = StreamTransport(app.asgi_app, entry)
    if settings.production:
        # Heroku's router is one hop: trust its X-Forwarded-For/-Proto entry, nothing before it.
        app.asgi_app = OneTrustedHop(app.asgi_app)
    return app
