"""Helpers for the browser tests: contexts and users, axe-core, focus, and keyboard travel.

axe-core comes from PyPI (axe-playwright-python ships axe.min.js). It is put into the page with
`page.evaluate`, which runs in the page's main world through the DevTools protocol and so is not
subject to the page's Content Security Policy (an injected <script> would be, and is refused).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.helpers.browser import PASSWORD
from tests.helpers.live import LiveUser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 800}
TIMEOUT = 10_000  # ms: the longest any single expectation waits
AXE_TIMEOUT = 30  # s: one axe-core run on one page
expect.set_options(timeout=TIMEOUT)

_AXE_SOURCE: str | None = None


def axe_source() -> str:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        from axe_playwright_python.base import AXE_FILE_PATH

        _AXE_SOURCE = AXE_FILE_PATH.read_text(encoding="utf-8")
    return _AXE_SOURCE


class Session:
    """What one test opens: browser contexts and HTTP users, closed together."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.users: list[LiveUser] = []

    async def close(self) -> None:
        for context in self.contexts:
            try:
                await context.close()
            except Exception:
                pass
        for user in self.users:
            await user.aclose()

    async def discard(self, *pages: Page) -> None:
        """Close pages' contexts before the end of the test (to keep few open at once)."""
        for page in pages:
            self.contexts.remove(page.context)
            await page.context.close()

    async def user(self, username: str, display_name: str = "") -> LiveUser:
        """A user registered over HTTP (the server's real Argon2id, about 0.3 s)."""
        made = LiveUser(self.base_url, username)
        self.users.append(made)
        return await made.register(display_name)

    async def context(self, *, viewport: dict | None = None, **options) -> BrowserContext:
        # The browser's zone is UTC unless a test says otherwise, wherever the suite runs: pages
        # then read the same everywhere, and no time zone is offered (static/js/zone.js).
        options.setdefault("timezone_id", "UTC")
        context = await self.browser.new_context(
            base_url=self.base_url, viewport=viewport or WIDE, **options
        )
        context.set_default_timeout(TIMEOUT)
        context.set_default_navigation_timeout(TIMEOUT)
        self.contexts.append(context)
        return context

    async def page(self, user: LiveUser | None = None, **options) -> Page:
        """A new page in a new context; signed in as `user` (its cookies) when given."""
        context = await self.context(**options)
        if user is not None:
            await context.add_cookies(
                [{"name": name, "value": value, "url": self.base_url} for name, value in user.cookies.items()]
            )
        return await watched(await context.new_page())


async def watched(page: Page) -> Page:
    """Record console errors and uncaught exceptions, so a test can prove there were none."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page._webchat_problems = problems  # type: ignore[attr-defined]
    return page


def csp_problems(page: Page) -> list[str]:
    """Console errors that mean a script or style was refused, or a script threw."""
    problems = getattr(page, "_webchat_problems", [])
    return [p for p in problems if "Content Security Policy" in p or p.startswith("page error")]


async def axe_run(page: Page, state: str) -> dict:
    """Run axe-core's WCAG 2.2 A and AA rules on the page as it is now; return its results."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    # Bounded: page.evaluate itself never times out (and axe needs timers, so script must be on).
    results = await asyncio.wait_for(page.evaluate(
        """tags => axe.run(document, {
             runOnly: {type: 'tag', values: tags},
             resultTypes: ['violations'],
           })""",
        WCAG_TAGS,
    ), AXE_TIMEOUT)
    # Proof that axe really ran here (and was not, say, refused by the page's policy).
    assert results.get("passes"), f"{state}: axe-core reported no passing rules: it did not run"
    assert results["testEngine"]["name"] == "axe-core"
    return results


async def axe(page: Page, state: str) -> dict:
    """axe-core on the page as it is now: fail on any violation (or any refused script or style)."""
    results = await axe_run(page, state)
    violations = results["violations"]
    assert not violations, f"{state} ({page.url}): axe-core found violations:\n{report(violations)}"
    problems = csp_problems(page)
    assert not problems, f"{state}: the page logged errors:\n" + "\n".join(problems)
    return results


async def settled(page: Page) -> None:
    """Wait for running transitions (a colour scheme change fades buttons) to finish."""
    await page.evaluate("""() => Promise.race([
      Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))),
      new Promise(done => setTimeout(done, 2000)),  // an endless animation: do not wait for ever
    ])""")


class Audit:
    """Collects axe-core violations over many pages and states, in both colour schemes, so one
    failing test lists every problem at once instead of the first."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checked: list[str] = []

    async def check(self, page: Page, state: str, schemes: tuple[str, ...] = ("light", "dark")) -> None:
        for scheme in schemes:
            await page.emulate_media(color_scheme=scheme)
            await settled(page)
            label = f"{state} [{scheme}]"
            results = await axe_run(page, label)
            self.checked.append(label)
            if results["violations"]:
                self.failures.append(f"{label} {page.url}\n{report(results['violations'])}")
        await page.emulate_media(color_scheme="light")
        problems = csp_problems(page)
        if problems:
            self.failures.append(f"{state}: the page logged errors:\n" + "\n".join(problems))
        getattr(page, "_webchat_problems", []).clear()

    def verify(self) -> None:
        assert self.checked, "nothing was checked"
        assert not self.failures, (
            f"axe-core: {len(self.failures)} of {len(self.checked)} page states fail WCAG 2.2 AA:\n\n"
            + "\n\n".join(self.failures)
        )


def report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')!s}".replace("\n", " / "))
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Focus and keyboard travel
# ------------------------------------------------------------------------------------------------

FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ');
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
    href: el.getAttribute('href'), type: el.getAttribute('type'),
    text: text.slice(0, 80),
    outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth) || 0,
    outlineColor: s.outlineColor, boxShadow: s.boxShadow,
    width: r.width, height: r.height,
    focusVisible: el.matches(':focus-visible'),
    inMain: !!el.closest('main'),
  };
}"""


async def focused(page: Page) -> dict | None:
    return await page.evaluate(FOCUS_JS)


def describe(info: dict | None) -> str:
    if info is None:
        return "<nothing>"
    bits = [info["tag"]]
    if info["id"]:
        bits.append(f"#{info['id']}")
    if info["href"]:
        bits.append(f"[href={info['href']}]")
    if info["text"]:
        bits.append(f"“{info['text'][:40]}”")
    return " ".join(bits)


def assert_focus_visible(info: dict | None, where: str = "") -> None:
    """The focused element shows a focus indicator: an outline of some width, or a box shadow."""
    assert info is not None, f"{where}: nothing has focus"
    outlined = info["outlineStyle"] not in ("none", "") and info["outlineWidth"] >= 2
    shadowed = info["boxShadow"] not in ("none", "")
    assert outlined or shadowed, f"{where}: focus on {describe(info)} is not visible: {info}"
    assert info["width"] > 0 and info["height"] > 0, f"{where}: focused {describe(info)} has no size"


async def press(page: Page, key: str, where: str = "") -> dict | None:
    """Press a key; if focus is then on an element, check that it can be seen."""
    await page.keyboard.press(key)
    info = await focused(page)
    if info is not None and info["tag"] not in ("main",):
        assert_focus_visible(info, f"{where} after {key}")
    return info


async def tab_to(page: Page, selector: str, *, backwards: bool = False, limit: int = 80, where: str = "") -> dict:
    """Tab (or Shift+Tab) until the focused element matches `selector`, checking every stop's
    focus indicator on the way. Only keys move focus: nothing here focuses an element."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(limit):
        info = await press(page, key, where or selector)
        seen.append(describe(info))
        if info is not None and await page.evaluate("s => document.activeElement.matches(s)", selector):
            return info
    raise AssertionError(f"{where}: {limit} presses of {key} never reached {selector}; went through:\n"
                         + "\n".join(seen))


async def type_text(page: Page, text: str) -> None:
    """Type into the focused control, Shift+Enter for each line break."""
    for i, line in enumerate(text.split("\n")):
        if i:
            await page.keyboard.press("Shift+Enter")
        await page.keyboard.type(line)


async def no_horizontal_scroll(page: Page, where: str) -> None:
    sizes = await page.evaluate(
        "() => { const e = document.scrollingElement; return [e.scrollWidth, e.clientWidth]; }"
    )
    overflowing = await page.evaluate(OVERFLOWING_JS) if sizes[0] > sizes[1] else []
    assert sizes[0] <= sizes[1], (
        f"{where}: needs horizontal scrolling (scrollWidth {sizes[0]} > clientWidth {sizes[1]}); "
        f"too wide: {json.dumps(overflowing)[:1500]}"
    )


OVERFLOWING_JS = """() => {
  const w = document.scrollingElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 0.5 && r.width > 0) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
      if (out.length > 12) break;
    }
  }
  return out;
}"""


async def screenshot(page: Page, name: str, folder: Path = SCREENSHOTS) -> Path:
    """A PNG of the viewport in `folder` (viewport only: small files, what a person sees)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path


__all__ = ["PASSWORD"]


# ------------------------------------------------------------------------------------------------
# The accessibility tree, as Chromium builds it for screen readers (through the DevTools protocol)
# ------------------------------------------------------------------------------------------------

async def ax_node(page: Page, selector: str) -> dict:
    """The accessibility node of the element `selector`: its role, properties (live, atomic, ...)
    and the text of every StaticText beneath it, in document order."""
    cdp = await page.context.new_cdp_session(page)
    try:
        document = await cdp.send("DOM.getDocument", {"depth": 0})
        found = await cdp.send("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector})
        assert found.get("nodeId"), f"no element {selector}"
        backend = (await cdp.send("DOM.describeNode", {"nodeId": found["nodeId"]}))["node"]["backendNodeId"]
        tree = await cdp.send("Accessibility.getFullAXTree")
    finally:
        await cdp.detach()
    nodes = {n["nodeId"]: n for n in tree["nodes"]}
    root = next((n for n in tree["nodes"] if n.get("backendDOMNodeId") == backend), None)
    assert root is not None, f"{selector} is not in the accessibility tree"
    texts: list[str] = []

    def walk(node: dict) -> None:
        if node.get("role", {}).get("value") == "StaticText" and not node.get("ignored"):
            texts.append(node.get("name", {}).get("value", ""))
        for child in node.get("childIds", []):
            if child in nodes:
                walk(nodes[child])

    walk(root)
    props = {p["name"]: p["value"].get("value") for p in root.get("properties", [])}
    return {"role": root.get("role", {}).get("value"), "ignored": root.get("ignored", False),
            "props": props, "texts": texts}


async def wait_until(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    """Poll a plain (or async) predicate every 50 ms until it holds; fail after `timeout` s."""
    import asyncio
    import inspect

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def open_actions(message: Locator) -> None:
    """Open a message's actions menu (its <details>) by its button, as a pointer does."""
    if not await message.locator("details.msg-actions[open]").count():
        await message.locator("details.msg-actions > summary").click()
    await expect(message.locator("details.msg-actions .menu")).to_be_visible()


async def from_page_top(page: Page) -> None:
    """Move the keyboard's starting point to the top of the page, as if the page had just loaded
    with nothing focused (a room focuses its composer when it opens): the next Tab goes to the
    first focusable element. A focusable element is put at the start of the page, focused and
    removed; the browser then starts from where it was."""
    await page.evaluate("""() => {
      const mark = document.createElement('span');
      mark.tabIndex = -1;
      document.body.prepend(mark);
      mark.focus({preventScroll: true});
      mark.remove();
    }""")
