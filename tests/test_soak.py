"""The reliability soak in CI: the tool of `python -m tests.soak` (see tests/soak.py), for 60 s.

1,000 streams across 50 rooms, 50 posters at 20 messages a second in all, against a real server;
passes only if no stream lost, repeated or reordered anything, every delivery came within the
promised time, memory stayed flat after warm-up, and every stream was released at the end.
"""

from __future__ import annotations

import os

import pytest

from tests.soak import SoakConfig, run_soak


@pytest.mark.slow
async def test_soak(tmp_path):
    seconds = float(os.environ.get("WEBCHAT_SOAK_SECONDS", "60"))
    result = await run_soak(SoakConfig(seconds=seconds, workdir=tmp_path))
    print(result.report())
    assert result.ok, result.report()
