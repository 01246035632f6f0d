"""A signed-in (or not) browser for the Quart test client: keeps cookies and the CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@dataclass
class Page:
    status: int
    text: str
    headers: object  # werkzeug Headers: case-insensitive

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


class Browser:
    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()
        self.token: str | None = None
        self.username: str | None = None

    async def _page(self, response) -> Page:
        text = (await response.get_data()).decode("utf-8", "replace")  # files too, not only pages
        if match := _TOKEN.search(text):
            self.token = match.group(1)
        return Page(response.status_code, text, response.headers)

    async def get(self, path: str, htmx: bool = False, headers: dict | None = None) -> Page:
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
        return await self._page(await self.client.get(path, headers=headers))

    async def ensure_token(self) -> str:
        if self.token is None:
            await self.get("/login")
        return self.token

    async def post(self, path: str, data: dict | None = None, htmx: bool = False,
                   csrf: bool = True, headers: dict | None = None) -> Page:
        form = dict(data or {})
        headers = dict(headers or {})
        if csrf:
            token = await self.ensure_token()
            if htmx:
                headers["X-CSRF-Token"] = token
            else:
                form.setdefault("csrf_token", token)
        if htmx:
            headers["HX-Request"] = "true"
        return await self._page(await self.client.post(path, form=form, headers=headers))

    async def register(self, username: str, display_name: str = "", password: str = PASSWORD) -> Page:
        page = await self.post(
            "/register", {"username": username, "password": password, "display_name": display_name}
        )
        assert page.status == 303, page.text
        self.username = username
        return page

    async def login(self, username: str, password: str = PASSWORD, next: str = "") -> Page:
        data = {"username": username, "password": password}
        if next:
            data["next"] = next
        return await self.post("/login", data)

    async def create_room(self, name: str, visibility: str = "public", topic: str = "") -> int:
        page = await self.post("/rooms", {"name": name, "visibility": visibility, "topic": topic})
        assert page.status == 303, page.text
        return int(page.location.rsplit("/", 1)[1])

    async def say(self, room_id: int, body: str, nonce: str | None = None) -> Page:
        data = {"body": body}
        if nonce:
            data["nonce"] = nonce
        return await self.post(f"/rooms/{room_id}/messages", data)

    async def stream_status(self, path: str, headers: dict | None = None) -> int:
        """Open an event stream through the test client, read its first bytes, hang up."""
        import asyncio

        async with self.client.request(path, method="GET", headers=headers or {}) as connection:
            await connection.send_complete()
            try:
                async with asyncio.timeout(3):
                    await connection.receive()
            except (TimeoutError, Exception):
                pass
            status = connection.status_code
            await connection.disconnect()
        return status
