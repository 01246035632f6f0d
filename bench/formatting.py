"""python -m bench formatting: what rendering a message body costs, for the slowest 4,000-character
bodies we know how to build (and ordinary prose, for scale).

Bodies are rendered once, when a message is written (webchat/text.py, stored in Message.html);
this is that one render, in microseconds, the median of several runs.
"""

from __future__ import annotations

import statistics
import time

from webchat.text import render_body

LENGTH = 4000


def _fill(piece: str) -> str:
    return (piece * (LENGTH // len(piece) + 1))[:LENGTH]


BODIES = {
    "ordinary prose with some formatting": _fill("The quick brown fox jumps over the *lazy* dog, `twice`. "),
    "4,000 plain letters": "a" * LENGTH,
    "unclosed link brackets '[['": _fill("[["),
    "unclosed autolinks '<http://a'": _fill("<http://a"),
    "image-like openers '![a]('": _fill("![a]("),
    "e-mail addresses": _fill("a@b.cd "),
    "one letter per line": _fill("a\n"),
    "emphasis runs '*a **b ***c'": _fill("*a **b ***c"),
    "mixed delimiters '*_~`[('": _fill("*_~`[("),
    "shortest links": _fill("http://ab "),
    "4,000 ')' after a link": "http://a" + ")" * (LENGTH - 8),
    "nested quotes and lists '> - '": _fill("> - "),
    "characters to escape '<&>'": _fill("<&>"),
}


def measure(body: str, runs: int = 15) -> float:
    render_body(body)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render_body(body)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main(argv: list[str] | None = None) -> int:
    results = {name: measure(body) for name, body in BODIES.items()}
    width = max(map(len, results))
    for name, micros in sorted(results.items(), key=lambda item: -item[1]):
        print(f"{name:<{width}}  {micros / 1000:8.2f} ms")
    worst = max(results, key=results.get)
    print(f"\nworst: {worst} ({results[worst] / 1000:.2f} ms for {len(BODIES[worst]):,} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
