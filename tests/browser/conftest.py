"""The browser suite's harness: Debian's Chromium, driven by Playwright, against a real server.

One Chromium for the whole session, a fresh browser context (cookies, storage, colour scheme,
viewport) for every test, and one `python -m webchat serve` on a free port with SQLite in a temp
dir. Users are registered over HTTP (fast) and their cookies handed to a context, except where
registering through the page is what a test is about.

Without /usr/bin/chromium the tests skip and say why; under CI=true they fail instead. The same
goes for the JavaScript test tools of tests/browser/package.json (Guidepup's virtual screen
reader), which scripts/test installs with `npm ci` when npm is there.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import pytest_asyncio

from tests.browser.support import SCREENSHOTS, Session
from tests.helpers.live import LiveServer
from tests.helpers.net import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Every test in this folder is a browser test and shares the session's event loop (and so
    the session's one Chromium)."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


def start_server(**env: str) -> tuple[LiveServer, Path]:
    workdir = Path(tempfile.mkdtemp(prefix="webchat-browser-"))
    server = LiveServer(free_port(), workdir, f"sqlite://{workdir / 'webchat.sqlite3'}", **env)
    server.start()
    return server, workdir


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"Debian's Chromium is not installed at {CHROMIUM}: `apt-get install chromium` (.ci/run does)"
    if IN_CI:
        pytest.fail(f"CI must not skip the browser tests: {message}")
    pytest.skip(message)


SCREEN_READER = HERE / "node_modules" / "@guidepup" / "virtual-screen-reader" / "lib" / "esm" / "index.browser.js"
SCREEN_READER_GLOBAL = "__webchatScreenReader"


def as_global_script(module: str, name: str) -> str:
    """An ES module bundle as a plain script that puts its exports on window[name].

    The page's Content Security Policy refuses injected <script> elements, but page.evaluate runs
    in the page through the DevTools protocol (as axe-core does here), and it takes a script, not
    a module: so the bundle's one closing `export{a as A,…}` becomes an assignment, inside a
    function so that evaluating it twice cannot clash.
    """
    found = list(re.finditer(r"export\s*\{([^}]*)\};?", module))
    assert len(found) == 1, "expected one export statement at the end of the bundle"
    exports = ", ".join(
        f"{alias.strip()}: {local.strip()}"
        for local, _, alias in (item.strip().partition(" as ") for item in found[0].group(1).split(","))
    )
    body = module[: found[0].start()] + f"window.{name} = {{{exports}}};" + module[found[0].end():]
    return f"if (!window.{name}) (function () {{\n{body}\n}})();"


@pytest.fixture(scope="session")
def screen_reader_script() -> str:
    """Guidepup's virtual screen reader (npm, MIT; a test tool, never served), as a script for
    page.evaluate that defines window.__webchatScreenReader = {Virtual, virtual}."""
    if not SCREEN_READER.exists():
        if shutil.which("npm") is None:
            message = ("Node.js and npm are not installed (`apt-get install npm`): the virtual screen "
                       "reader tests need them; scripts/test then installs tests/browser/package.json")
        else:
            message = ("the virtual screen reader is not installed: `npm ci --prefix tests/browser` "
                       "(scripts/test does it when npm can reach the registry)")
        if IN_CI:
            pytest.fail(f"CI must not skip the screen reader tests: {message}")
        pytest.skip(message)
    return as_global_script(SCREEN_READER.read_text(encoding="utf-8"), SCREEN_READER_GLOBAL)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium(chromium_path):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(scope="session")
def live():
    """The session's server: SQLite in a temp dir, rate limits off."""
    server, workdir = start_server(WEBCHAT_RATE_LIMITS="off")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def fresh_server():
    """A server of the test's own (an empty database, or rate limits on): about 1.5 s to start."""
    started = []

    def make(**env: str) -> LiveServer:
        env.setdefault("WEBCHAT_RATE_LIMITS", "off")
        server, workdir = start_server(**env)
        started.append((server, workdir))
        return server

    yield make
    for server, workdir in started:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """A username no other test uses: tests share the session's server."""
    return f"{prefix}{next(_serial)}{uuid.uuid4().hex[:4]}"


@pytest_asyncio.fixture(loop_scope="session")
async def session(chromium, live):
    """A Session: new browser contexts, users made over HTTP, all closed at the end of the test."""
    made = Session(chromium, live.url)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
def screenshot_folder(tmp_path) -> Path:
    """docs/screenshots/ when asked for (WEBCHAT_SCREENSHOTS=1), else a temporary folder: a test
    run leaves the working tree as it was."""
    return SCREENSHOTS if os.environ.get("WEBCHAT_SCREENSHOTS") == "1" else tmp_path / "screenshots"
