"""`python -m webchat serve` with tracemalloc on, for `python -m bench profile` only.

A thread takes a snapshot (and counts gc-tracked objects by type) whenever the benchmark drops a
request file in BENCH_CONTROL_DIR. Never used for the measured figures: tracing costs memory and time.
"""

from __future__ import annotations

import collections
import gc
import json
import os
import pathlib
import runpy
import sys
import threading
import time
import tracemalloc

tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "6")))
CONTROL = pathlib.Path(os.environ["BENCH_CONTROL_DIR"])


def _watch() -> None:
    while True:
        time.sleep(0.2)
        request = CONTROL / "snapshot.request"
        if not request.exists():
            continue
        name = request.read_text().strip()
        request.unlink()
        gc.collect()
        tracemalloc.take_snapshot().dump(str(CONTROL / f"{name}.snap"))
        counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
        (CONTROL / f"{name}.types.json").write_text(json.dumps(counts.most_common(80)))
        (CONTROL / f"{name}.done").write_text("ok")


threading.Thread(target=_watch, daemon=True, name="bench-tracemalloc").start()
sys.argv = ["python -m webchat", "serve"]
runpy.run_module("webchat", run_name="__main__", alter_sys=True)
