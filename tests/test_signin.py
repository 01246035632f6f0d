"""Sign-in and sign-up under attack: attempts counted before the slow check, password hashing
bounded, an account's owner never locked out by a stranger, common passwords and deceptive names
refused."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.helpers.browser import PASSWORD
from webchat.accounts import passwords
from webchat.accounts import views as account_views
from webchat.models import Room, User
from webchat.ratelimit import Limit


@pytest.fixture
def counted_verifies(monkeypatch):
    calls = []
    original = account_views.verify_password

    async def counting(stored, password):
        calls.append(password)
        return await original(stored, password)

    monkeypatch.setattr(account_views, "verify_password", counting)
    return calls


async def test_wrong_passwords_sent_at_once_are_counted_before_they_are_checked(
        app, ana, browser_factory, counted_verifies):
    """40 wrong passwords at the same moment from one address: only the limit's worth are even
    checked; the rest are refused at once (the limit used to be read before, and counted after,
    the slow check, so all 40 were checked)."""
    app.config["RATE_LIMITS"]["login"] = Limit(5, 300)
    attacker = browser_factory()
    await attacker.ensure_token()
    pages = await asyncio.gather(*(
        attacker.post("/login", {"username": "ana", "password": f"guess number {n}"}) for n in range(40)))
    statuses = sorted(page.status for page in pages)
    assert statuses.count(401) == 5 and statuses.count(429) == 35, statuses
    assert len(counted_verifies) == 5


async def test_a_right_password_is_not_counted_as_a_failure(app, ana, browser_factory):
    app.config["RATE_LIMITS"]["login"] = Limit(3, 300)
    for _ in range(5):  # more sign-ins than the limit allows failures: all fine
        browser = browser_factory()
        assert (await browser.login("ana")).status == 303


async def test_hashing_runs_in_a_bounded_number_of_slots(monkeypatch):
    """However many sign-ins arrive, at most SLOTS hashes run at once (each holds 64 MiB); the
    others wait, and one that waits longer than WAIT_SECONDS is refused (Busy), not queued forever."""
    monkeypatch.setattr(passwords, "WAIT_SECONDS", 0.3)
    running, most = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1

    results = await asyncio.gather(*(passwords._in_a_slot(work) for _ in range(12)),
                                   return_exceptions=True)
    busy = sum(isinstance(result, passwords.Busy) for result in results)
    assert most == passwords.SLOTS
    assert 0 < busy < 12  # some were served, the rest told to come back


async def test_a_sign_in_that_finds_no_free_slot_answers_429_and_is_not_counted(app, ana, browser_factory,
                                                                                monkeypatch):
    monkeypatch.setattr(passwords, "WAIT_SECONDS", 0.05)
    app.config["RATE_LIMITS"]["login"] = Limit(2, 300)
    release = threading.Event()
    hogs = [asyncio.create_task(passwords._in_a_slot(release.wait, 5)) for _ in range(passwords.SLOTS)]
    await asyncio.sleep(0.05)
    try:
        browser = browser_factory()
        for _ in range(3):  # more than the limit: not one of them was counted
            page = await browser.login("ana", "not the password")
            assert page.status == 429 and "signing in at this moment" in page.text
    finally:
        release.set()
        await asyncio.gather(*hogs)
    assert (await browser.login("ana")).status == 303


async def test_guessing_one_account_from_anywhere_is_slowed_but_its_owner_gets_in(app, ana, browser_factory):
    """Per account, across addresses: after the limit, strangers' browsers are refused even with
    the right password, while a browser that signed in to the account before still gets in."""
    app.config["RATE_LIMITS"]["login"] = Limit(1000, 300)
    app.config["RATE_LIMITS"]["login_account"] = Limit(3, 600)
    owners_laptop = browser_factory()
    assert (await owners_laptop.login("ana")).status == 303
    await owners_laptop.post("/logout")
    for n in range(3):  # a stranger guessing, each time from a fresh browser
        assert (await browser_factory().login("ana", f"guess {n}")).status == 401
    stranger = browser_factory()
    page = await stranger.login("ana")
    assert page.status == 429 and int(page.headers["Retry-After"]) >= 1
    assert (await owners_laptop.login("ana")).status == 303


async def test_registration_counts_before_it_says_whether_a_name_is_taken(app, ana, browser_factory):
    app.config["RATE_LIMITS"]["register"] = Limit(4, 3600)  # ana's own sign-up was the first
    prober = browser_factory()
    answers = [(await prober.post("/register", {"username": "ana", "password": PASSWORD})).status
               for _ in range(5)]
    assert answers == [422, 422, 422, 429, 429]
    page = await prober.post("/register", {"username": "ana", "password": PASSWORD})
    assert "taken" not in page.text


@pytest.mark.parametrize("password", ["password123", "iloveyou", "qwertyuiop", "Sunshine1", "football"])
async def test_common_passwords_are_refused(browser_factory, password):
    page = await browser_factory().post("/register", {"username": "newcomer", "password": password})
    assert page.status == 422 and "most common" in page.text
    assert not await User.filter(username_key="newcomer").exists()


async def test_the_username_as_password_is_refused(browser_factory):
    page = await browser_factory().post("/register", {"username": "marguerite", "password": "Marguerite"})
    assert page.status == 422 and "most common" in page.text


HIDDEN = {
    "right-to-left override": "Ana\u202eLima",
    "left-to-right isolate": "Ana\u2066Lima\u2069",
    "zero-width space": "An\u200ba",
    "zero-width joiner": "Ana\u200d",
    "soft hyphen": "An\u00ada",
    "Hangul filler": "\u3164",
    "control": "Ana\x07",
    "line separator": "Ana\u2028Lima",
}


@pytest.mark.parametrize("name", HIDDEN.values(), ids=HIDDEN.keys())
async def test_names_that_hide_or_reorder_characters_are_refused(browser_factory, name):
    browser = browser_factory()
    page = await browser.post("/register", {"username": "mimic", "password": PASSWORD, "display_name": name})
    assert page.status == 422 and "invisible" in page.text
    await browser.register("mimic", "Mimic")
    page = await browser.post("/rooms", {"name": f"Room {name}", "visibility": "public"})
    assert page.status == 422 and "invisible" in page.text
    assert not await Room.exists()


async def test_names_in_other_scripts_are_welcome(browser_factory):
    for n, name in enumerate(["สมชาย ใจดี", "Zoë Ångström", "محمد", "李小龍", "Ana 🌻"]):
        await browser_factory().register(f"person{n}", name)
    assert await User.filter(username_key__startswith="person").count() == 5
