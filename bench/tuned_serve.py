"""Experiments only: `python -m webchat serve` with a changed interpreter setting.

    python -m bench.tuned_serve SWITCH_INTERVAL|- [gc-log]

SWITCH_INTERVAL sets sys.setswitchinterval (how long a thread may wait for the GIL); `gc-log`
writes every garbage collection that takes 5 ms or more to the server's log, with its generation
and the objects it examined. Used by `python -m bench --switch-interval S` and `--gc-log`; never
for the recorded figures.
"""

from __future__ import annotations

import gc
import runpy
import sys
import time

if sys.argv[1] != "-":
    sys.setswitchinterval(float(sys.argv[1]))

if "gc-log" in sys.argv[2:]:
    _started = [0.0]

    def _log(phase: str, info: dict) -> None:
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        took = time.perf_counter() - _started[0]
        if took >= 0.005:
            counts = gc.get_count()
            print(f"{time.strftime('%H:%M:%S')} bench-gc: generation {info['generation']} took {took * 1000:.1f} ms, "
                  f"collected {info['collected']}, objects tracked {len(gc.get_objects(info['generation']))} "
                  f"counts {counts}", file=sys.stderr, flush=True)

    gc.callbacks.append(_log)

sys.argv = ["python -m webchat", "serve"]
runpy.run_module("webchat", run_name="__main__", alter_sys=True)
