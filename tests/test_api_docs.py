"""The API's documentation does what it says: every curl example in docs/api.md and README.md
runs, exactly as written, against a real server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.live import LiveServer, LiveUser

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "api.md", ROOT / "README.md"]


def curl_examples() -> list[str]:
    examples = []
    for doc in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", doc.read_text(), re.S):
            examples += [line for line in block.splitlines() if line.startswith("curl ")]
    return examples


def make_token(server: LiveServer, username: str) -> str:
    done = subprocess.run([sys.executable, "-m", "webchat", "token", "create", username],
                          env=server.env, cwd=server.workdir, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_docs_have_curl_examples_for_the_main_routes():
    joined = "\n".join(curl_examples())
    for route in ("/api/v1/me", "/api/v1/rooms", "/api/notify", "/messages"):
        assert route in joined


@pytest.mark.slow
async def test_every_curl_example_works_as_written(sqlite_url, free_port, workdir):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    with LiveServer(free_port, workdir, sqlite_url, WEBCHAT_RATE_LIMITS="off") as server:
        ana = await LiveUser(server.url, "ana").register("Ana")
        ben = await LiveUser(server.url, "ben").register("Ben")
        room = await ana.create_room("Builds")
        hook_page = await ana.post(f"/rooms/{room}/hooks", {"name": "CI"})
        hook_url = re.search(r'id="hook-url" type="text" readonly value="([^"]+)"', hook_page.text).group(1)
        env = {**os.environ, "WEBCHAT": server.url, "TOKEN": make_token(server, "ana"), "ROOM": str(room),
               "HOOK_URL": hook_url}
        for example in curl_examples():
            done = subprocess.run(["bash", "-c", example], env=env, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, (example, done.stdout, done.stderr)
            if "HOOK_URL" in example:
                assert done.stdout == "ok"
                continue
            answer = json.loads(done.stdout)
            assert "status" not in answer or answer.get("type") is None, answer  # not a problem detail
        page = await ana.page(f"/rooms/{room}")
        assert "Build 42 passed" in page.text and "Deploy finished" in page.text
        assert "Nightly tests passed" in page.text and "Disk 80% full" in page.text
        await ana.aclose()
        await ben.aclose()
