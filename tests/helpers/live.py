"""A real `python -m webchat serve` process, and the people who use it over real sockets.

`LiveUser` is the one client of a real server for the tests, the browser tests' set-up, the soak
(tests/soak.py) and the benchmark (bench/): a person with cookies and a CSRF token who registers,
signs in, makes and joins rooms, posts and opens event streams. It speaks HTTP/1.1 by hand
(tests/helpers/http1.py), so the benchmark measures the server and not a client library; the
in-process view of the same person is `Browser` (tests/helpers/browser.py), on the Quart test
client. Nothing here is mocked, and nothing here needs pytest or httpx.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.helpers.browser import PASSWORD
from tests.helpers.http1 import HTTPConnection, Response
from tests.helpers.sse import Event
from tests.helpers.streams import LiveStream, open_stream

ROOT = Path(__file__).resolve().parents[2]
_TOKEN = re.compile(rb'<meta name="csrf-token" content="([^"]+)">')
_MESSAGE_ID = re.compile(r'<li id="m-(\d+)"')
_BODY = re.compile(r'<div class="body" dir="auto"[^>]*>(.*?)</div>', re.S)


class LiveServer:
    def __init__(self, port: int, workdir: Path, database_url: str, **env: str) -> None:
        self.port = port
        self.workdir = workdir
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "live-test-secret",
            "WEBCHAT_ENV": "development",
            "WEBCHAT_INSTANCE": str(workdir / "instance"),
            "PYTHONPATH": str(ROOT),
            **env,
        }
        if "REDIS_URL" not in env:
            self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"server-{port}.log"

    def spawn(self) -> LiveServer:
        """Start the process without waiting for it to answer (`start()` waits)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "webchat", "serve"], cwd=self.workdir, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def start(self, timeout: float = 30) -> LiveServer:
        wait_healthy([self.spawn()], timeout)
        return self

    def healthy(self) -> bool:
        """Whether GET /healthz answers 200 now."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop(signal.SIGKILL if exc[0] else signal.SIGTERM)


def wait_healthy(servers: list[LiveServer], timeout: float = 30) -> None:
    """Wait until every server's process answers /healthz with 200 (started, migrated, serving)."""
    deadline = time.monotonic() + timeout
    for server in servers:
        while not server.healthy():
            if server.process.poll() is not None:
                raise RuntimeError(f"server exited {server.process.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer within {timeout}s:\n{server.log()}")
            time.sleep(0.05)


class LiveUser:
    """A person using a real server: a browser's cookies, the page's CSRF token, one keep-alive
    connection for pages and posts, and a new connection for each event stream.

    Every call that changes something checks the answer a browser would get (`register`, `login`,
    `create_room`, `join`, `say`) and raises AssertionError with the page when it is not that;
    `page`, `post` and `request` return the response as it is.
    """

    def __init__(self, url: str, username: str, headers: dict[str, str] | None = None,
                 cookies: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.url = f"http://{parts.hostname}:{parts.port}"
        self.host, self.port = parts.hostname, parts.port
        self.username = username
        self.headers = dict(headers or {})  # sent with every request (a proxy's, for example)
        self.cookies: dict[str, str] = dict(cookies or {})
        self.token: str | None = None
        self.connection = HTTPConnection(self.host, self.port)
        self._elsewhere: list[LiveUser] = []

    def on(self, server) -> LiveUser:
        """The same person (the same cookies) at another server process (a LiveServer, anything
        with a `url`, or a URL), as behind a load balancer; on a connection of its own."""
        other = LiveUser(getattr(server, "url", server), self.username, self.headers)
        other.cookies, other.token = self.cookies, self.token  # one cookie jar for all of them
        self._elsewhere.append(other)
        return other

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    async def aclose(self) -> None:
        for user in [self, *self._elsewhere]:
            await user.connection.aclose()

    # -- HTTP ------------------------------------------------------------------------------------
    async def request(self, method: str, path: str, form: dict | None = None, htmx: bool = False,
                      headers: dict[str, str] | None = None, timeout: float = 30) -> Response:
        if method == "POST" and self.token is None:
            await self.page("/login")  # a page's token (and the cookie it goes with)
        fields = dict(self.headers)
        if self.cookies:
            fields["Cookie"] = self.cookie_header()
        body = b""
        if method == "POST":  # the CSRF token as a browser sends it: htmx's header, or the form's field
            form = dict(form or {})
            if htmx:
                fields["X-CSRF-Token"] = self.token
            else:
                form.setdefault("csrf_token", self.token)
            fields["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form).encode()
        if htmx:
            fields["HX-Request"] = "true"
        fields.update(headers or {})
        try:
            response = await self.connection.request(method, path, fields, body, timeout)
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server closed an idle keep-alive connection as we wrote: one retry on a new one.
            # The benchmark's posts carry a nonce, so a retried post can never make a second message.
            response = await self.connection.request(method, path, fields, body, timeout)
        self._keep_cookies(response)
        return response

    def _keep_cookies(self, response: Response) -> None:
        for line in response.headers.get_list("set-cookie"):
            pair, *attributes = line.split(";")
            name, _, value = pair.partition("=")
            name, value = name.strip(), value.strip().strip('"')
            if any(_expires_now(attribute) for attribute in attributes):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    async def page(self, path: str, htmx: bool = False, headers: dict[str, str] | None = None,
                   timeout: float = 30) -> Response:
        """GET, keeping the CSRF token the page carries."""
        response = await self.request("GET", path, htmx=htmx, headers=headers, timeout=timeout)
        if match := _TOKEN.search(response.content):
            self.token = match.group(1).decode()
        return response

    async def post(self, path: str, data: dict | None = None, htmx: bool = False,
                   headers: dict[str, str] | None = None, timeout: float = 30) -> Response:
        return await self.request("POST", path, data, htmx, headers, timeout)

    # -- what a person does ----------------------------------------------------------------------
    async def register(self, display_name: str = "", password: str = PASSWORD) -> LiveUser:
        response = await self.post(
            "/register", {"username": self.username, "password": password, "display_name": display_name})
        _expect(response, (303,), f"register {self.username}")
        if not any(name.endswith("webchat_session") for name in self.cookies):
            raise AssertionError(f"register {self.username}: no session cookie in {self.cookies}")
        return self

    async def login(self, password: str = PASSWORD) -> LiveUser:
        response = await self.post("/login", {"username": self.username, "password": password})
        _expect(response, (303,), f"sign in {self.username}")
        return self

    async def create_room(self, name: str, visibility: str = "public") -> int:
        response = await self.post("/rooms", {"name": name, "visibility": visibility})
        _expect(response, (303,), f"create room {name!r}")
        return int(response.headers["location"].rsplit("/", 1)[1])

    async def join(self, room: int) -> None:
        _expect(await self.post(f"/rooms/{room}/join"), (303,), f"join room {room}")

    async def say(self, room: int, body: str, nonce: str | None = None, timeout: float = 30,
                  check: bool = True) -> Response:
        """Post as the composer does (an htmx post); with check=False, whatever the answer."""
        data = {"body": body, **({"nonce": nonce} if nonce else {})}
        response = await self.post(f"/rooms/{room}/messages", data, htmx=True, timeout=timeout)
        if check:
            _expect(response, (200, 204), f"post to room {room}")
        return response

    @asynccontextmanager
    async def stream(self, path: str, last_id: str | None = None, headers: dict[str, str] | None = None):
        """An event stream (a LiveStream), open for the `async with` block; resuming after
        `last_id` (sent as Last-Event-ID) when given."""
        fields = {**self.headers, **({"Last-Event-ID": str(last_id)} if last_id is not None else {}),
                  **(headers or {})}
        stream = LiveStream(await open_stream(self.port, path, self.cookie_header(), fields, host=self.host))
        try:
            yield stream
        finally:
            await stream.aclose()

    def events(self, room: int, last_id: str | None = None):
        """The room's event stream (see `stream`)."""
        return self.stream(f"/rooms/{room}/events", last_id)


def _expires_now(attribute: str) -> bool:
    """Whether a Set-Cookie attribute deletes the cookie (Max-Age=0, or an Expires in the past)."""
    name, _, value = attribute.strip().partition("=")
    name = name.lower()
    if name == "max-age":
        return value.strip().lstrip("-").isdigit() and int(value) <= 0
    if name == "expires":
        try:
            return parsedate_to_datetime(value).timestamp() <= time.time()
        except (TypeError, ValueError):
            return False
    return False


def _expect(response: Response, statuses: tuple[int, ...], what: str) -> None:
    if response.status_code not in statuses:
        raise AssertionError(f"{what}: {response.status_code} {response.text[:500]}")


def message_id(data: str) -> int:
    """The message's id in a message fragment (an event's data, or a page)."""
    return int(_MESSAGE_ID.search(data).group(1))


def body_text(data: str) -> str | None:
    match = _BODY.search(data)
    return match.group(1).strip() if match else None


def event_ids(events: list[Event]) -> list[int]:
    return [int(event.id) for event in events]
