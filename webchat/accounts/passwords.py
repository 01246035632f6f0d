"""Passwords: Argon2id hashing off the event loop, a bound on how many run at once, and a check
against the passwords people choose most often.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi's RFC 9106 low-memory profile: 64 MiB, 3 passes
# Verifying against this when the user does not exist keeps the timing of both answers alike.
_DUMMY = _hasher.hash("not a real password")

# Each hash or verify holds 64 MiB and a core for ~0.1 s: a burst of sign-ins must queue, not run
# all at once (60 at once once took a server from 70 to 455 MiB and slowed every page).
SLOTS = max(1, min(4, (os.cpu_count() or 2) // 2))
# How long a sign-in waits for a slot before it is told to try again (429).
WAIT_SECONDS = 3.0
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


class Busy(Exception):
    """Every slot stayed taken for WAIT_SECONDS."""


async def _in_a_slot(work, *args):
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(SLOTS)
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            await slots.acquire()
    except TimeoutError:
        raise Busy from None
    try:
        return await asyncio.to_thread(work, *args)
    finally:
        slots.release()


async def hash_password(password: str) -> str:
    return await _in_a_slot(_hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await _in_a_slot(check)


@cache
def _common() -> frozenset[str]:
    """The 30,000 passwords seen most often in public breaches (zxcvbn's list, from Xato's corpus
    of ten million), lower-cased. Imported and built on first use (about 2 MB that only
    registration needs), not at every start."""
    # Imported here, not at the top: 2 MB of lists that only registration needs.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def too_common(password: str, username: str = "") -> bool:
    """A password found in breach lists, or the username itself (NIST SP 800-63B, 3.1.1.2)."""
    lowered = password.lower()
    return lowered in _common() or (bool(username) and lowered == username.lower())
