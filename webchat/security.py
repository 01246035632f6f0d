"""CSRF tokens, the request gate (sign-in, CSRF, size, content type) and security headers.

The gate runs the contract's checks in its order: signed out, then the CSRF token, then the body
size, then (in the views) validation.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from quart import Quart, current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from webchat import i18n
from webchat.refusals import FormExpired, Refused, SignInRequired, TooLarge

CSRF_COOKIE = "webchat_csrf"
# In production every cookie of ours is "__Host-" prefixed: the browser then accepts it only from
# this exact origin over HTTPS, so no sibling subdomain or plain-HTTP attacker can plant (fix) a
# CSRF binding or a session before the user signs in.
HOST_PREFIX = "__Host-"
CSRF_MAX_AGE = 7 * 24 * 3600
MAX_BODY = 256 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PUBLIC_ENDPOINTS = {"pages.index", "accounts.login", "accounts.register", "pages.healthz", "static",
                    "api_pages.reference", "accounts.join_by_invitation", "accounts.reset_password",
                    "mail.verify", "mail.unsubscribe", "mail.forgot_password", "mail.forgot_sent",
                    "language.switch"}
# A POST whose signed link is its whole proof, made by mail programs without our cookie or a
# token (RFC 8058 one-click unsubscribe): no CSRF check, and a forged request can do no more
# than the link itself.
SIGNED_LINK_ENDPOINTS = {"mail.unsubscribe"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BEARER_PATHS = ("/api/", "/hooks/")
# Where a multipart body may carry files, up to the app's WEBCHAT_UPLOAD_BODY rather than MAX_BODY.
UPLOAD_ENDPOINTS = {"messages.post_message"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="webchat-csrf")


def _browser_signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="webchat-browser")


def cookie_name(name: str) -> str:
    return HOST_PREFIX + name if current_app.config["WEBCHAT_PRODUCTION"] else name


def browser_id() -> str:
    """A random id for this browser, kept in a signed cookie across sign-in and sign-out."""
    if "browser_id" not in g:
        g.browser_id = None
        raw = request.cookies.get(cookie_name(CSRF_COOKIE))
        if raw:
            try:
                g.browser_id = _browser_signer().unsign(raw).decode()
            except BadSignature:
                g.browser_id = None
        if g.browser_id is None:
            g.browser_id = secrets.token_urlsafe(18)
            g.set_browser_cookie = True
    return g.browser_id


def csrf_token() -> str:
    if "csrf_token" not in g:
        g.csrf_token = _serializer().dumps(browser_id())
    return g.csrf_token


def token_valid(token: str | None) -> bool:
    if not token or request.cookies.get(cookie_name(CSRF_COOKIE)) is None:
        return False
    try:
        value = _serializer().loads(token, max_age=CSRF_MAX_AGE)
    except BadSignature:
        return False
    return secrets.compare_digest(str(value), browser_id())


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None if malformed."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # "http://[" and other origins no browser sends
        return None
    if not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def cross_site() -> bool:
    """A cross-site Sec-Fetch-Site, or an Origin whose scheme, host or port is not ours."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if not origin:
        return False
    if origin == "null":
        return True
    scheme, _, rest = origin.partition("://")
    theirs = _origin(scheme.lower(), rest) if rest and "/" not in rest else None
    return theirs is None or theirs != _origin(request.scheme, request.host)


async def read_form() -> MultiDict | None:
    """Parse a urlencoded body strictly (bytes that are not UTF-8 are refused, not replaced)."""
    content_type = request.mimetype
    if content_type == "application/x-www-form-urlencoded":
        raw = await request.get_data(as_text=False)
        try:
            text = raw.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                              max_num_fields=200)
        except (UnicodeDecodeError, ValueError):
            return None
        return MultiDict(pairs)
    if content_type == "multipart/form-data":
        form = await request.form
        return MultiDict(form)
    return MultiDict()


def _bound_body() -> int:
    """The largest body this request may send. MAX_CONTENT_LENGTH is the upload bound (a message
    with its files); every other body is held to MAX_BODY, also one sent without a length
    (chunked): the multipart parser reads request.max_content_length, and an awaited body the
    bound it was made with, which Quart set from MAX_CONTENT_LENGTH before any hook ran."""
    limit = MAX_BODY
    if request.endpoint in UPLOAD_ENDPOINTS and request.mimetype == "multipart/form-data":
        limit = current_app.config["WEBCHAT_UPLOAD_BODY"]
    request.max_content_length = limit
    body = request.body
    body._max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        body._must_raise = RequestEntityTooLarge()
    return limit


async def gate() -> None:
    """before_request: the checks every request passes, in the contract's order."""
    if request.routing_exception is not None:
        return  # 404 or 405: nothing here to protect
    limit = _bound_body()
    if request.path.startswith(BEARER_PATHS):
        # The integration API and incoming webhooks take no cookie (webchat.api checks bearer
        # tokens and webhook secrets), so a forged cross-site request carries nothing to abuse:
        # no CSRF token applies there.
        return
    endpoint = request.endpoint or ""
    if endpoint not in PUBLIC_ENDPOINTS and g.user is None:
        if endpoint == "static":
            return
        raise SignInRequired()
    if request.method in SAFE_METHODS:
        return
    signed_link = endpoint in SIGNED_LINK_ENDPOINTS
    if cross_site() and not signed_link:
        raise FormExpired()
    header_token = request.headers.get("X-CSRF-Token")
    if header_token is not None and not token_valid(header_token) and not signed_link:
        raise FormExpired()
    length = request.content_length
    if length is not None and length > limit:
        if limit == MAX_BODY:
            raise TooLarge()
        raise TooLarge(i18n.gettext("What you sent is larger than %(size)s MB in all, so it could not be kept. "
                                    "Go back and send fewer or smaller files.", size=limit // (1024 * 1024)),
                       i18n.gettext("Files too large"))
    has_body = bool(length) or "Transfer-Encoding" in request.headers
    if (has_body or request.mimetype) and request.mimetype not in FORM_TYPES:
        raise Refused(415, i18n.gettext("This address takes an HTML form post, not “%(type)s”.",
                                        type=request.mimetype or i18n.gettext("no content type")),
                      i18n.gettext("Unsupported form"))
    form = await read_form()
    if form is None:
        raise Refused(400, i18n.gettext("The form's text was not valid UTF-8."), i18n.gettext("Unreadable form"))
    g.form = form
    if header_token is None and not token_valid(form.get("csrf_token")) and not signed_link:
        raise FormExpired()


async def kept_form_text() -> dict | None:
    """The `body` (and `nonce`) of a same-site form post with a valid CSRF token, else None: what
    a failed post may be given back to send again. Only what this browser itself sent, and only
    to a request that could have posted it anyway: a cross-site post gets nothing back."""
    if request.method != "POST" or request.mimetype not in FORM_TYPES:
        return None
    try:
        form = g.get("form") or await read_form()
        if not form or "body" not in form or cross_site():
            return None
        token = request.headers.get("X-CSRF-Token") or form.get("csrf_token")
        if not token_valid(token):
            return None
    except Exception:  # an unreadable body: nothing to keep
        return None
    return {"action": request.path, "body": form.get("body", ""), "nonce": form.get("nonce", "")[:64]}


CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'{nonce}; img-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Every response carries these (pages, fragments, redirects, errors, event streams).
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"
# What a signed-in user is shown is theirs alone: no shared computer's cache may keep it.
PRIVATE = "no-store"


def response_headers(production: bool) -> dict[str, str]:
    """The headers of a response made outside Quart (the event streams), nonce-free CSP."""
    headers = {"Content-Security-Policy": CSP.format(nonce=""), **HEADERS}
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def style_nonce() -> str:
    if "style_nonce" not in g:
        g.style_nonce = secrets.token_urlsafe(12)
    return g.style_nonce


async def add_headers(response):
    nonce = f" 'nonce-{g.style_nonce}'" if "style_nonce" in g else ""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP.format(nonce=nonce))
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if current_app.config["WEBCHAT_PRODUCTION"]:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if g.get("user") is not None and request.endpoint != "static":
        headers["Cache-Control"] = PRIVATE
    if g.get("set_browser_cookie"):
        set_lasting_cookie(response, CSRF_COOKIE, _browser_signer().sign(g.browser_id).decode())
    return response


def set_lasting_cookie(response, name: str, value: str) -> None:
    """A cookie of ours that outlives sign-out: HttpOnly, Lax, Secure (and __Host-) in production."""
    response.set_cookie(
        cookie_name(name), value, max_age=400 * 24 * 3600, httponly=True, samesite="Lax",
        secure=current_app.config["WEBCHAT_PRODUCTION"],
    )


def init_app(app: Quart) -> None:
    app.before_request(gate)
    app.after_request(add_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["style_nonce"] = style_nonce
