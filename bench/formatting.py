"""python -m bench formatting: what rendering a message body costs, for the slowest 4,000-character
bodies we know how to build (and ordinary prose, for scale).

Bodies are rendered once, when a message is written (webchat/text.py, stored in Message.html);
this is that one render, in milliseconds. Each round times every body several times (the median
of those runs); the figure is the median over the rounds. Wall-clock time, and today's renderer's
CPU time too (what a render costs, without the turns other processes take on a shared machine).

    .venv/bin/python -m bench formatting [--rounds 5] [--runs 9] [--search 300]
    .venv/bin/python -m bench formatting --before 1609c7c   # the same run, the old renderer too

`--before REV` loads webchat/text.py as it was at git revision REV (`git show`, into a module of its
own: it needs only markdown-it, linkify-it and markupsafe) and times it beside today's in the same
rounds, alternating, so both see the machine's load of the moment. `--search N` also renders N
bodies made at random (a fixed seed) from a few of the pieces below, repeated to 4,000 characters,
and adds the slowest it found to the table. The load average is printed before and after: the
machine is shared, and a loaded one shows higher figures.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

from webchat.text import render_body

LENGTH = 4000
ROOT = Path(__file__).resolve().parent.parent


def _fill(piece: str) -> str:
    return (piece * (LENGTH // len(piece) + 1))[:LENGTH]


BODIES = {
    "ordinary prose with some formatting": _fill("The quick brown fox jumps over the *lazy* dog, `twice`. "),
    "ordinary prose, a link and an address in it": _fill("Plain words of a long message go on and on. ")[:3940]
    + " see https://example.org/a and ana@example.org",
    "4,000 plain letters": "a" * LENGTH,
    "unclosed link brackets '[['": _fill("[["),
    "unclosed autolinks '<http://a'": _fill("<http://a"),
    "image-like openers '![a]('": _fill("![a]("),
    "e-mail addresses": _fill("a@b.cd "),
    "one letter per line": _fill("a\n"),
    "one letter per paragraph 'a\\n\\n'": _fill("a\n\n"),
    "many lines, one emphasis": "*one* emphasis\n" + _fill("a\n")[:LENGTH - 15],
    "many paragraphs, one emphasis": "*one* emphasis\n\n" + _fill("a\n\n")[:LENGTH - 16],
    "trailing spaces 'a  \\n'": _fill("a  \n"),
    "emphasis runs '*a **b ***c'": _fill("*a **b ***c"),
    "mixed delimiters '*_~`[('": _fill("*_~`[("),
    "shortest links": _fill("http://ab "),
    "4,000 ')' after a link": "http://a" + ")" * (LENGTH - 8),
    "nested quotes and lists '> - '": _fill("> - "),
    "characters to escape '<&>'": _fill("<&>"),
    "list items '- a'": _fill("- a\n"),
    "ordered items '1. a'": _fill("1. a\n"),
    "a list item, then lazy lines": "- a\n" + _fill("b\n")[:LENGTH - 4],
    "quoted lines '> a'": _fill("> a\n"),
    "empty list items '-'": _fill("-\n"),
    "fences '```'": _fill("```\na\n"),
    "indented code '    a'": _fill("    a\n"),
    "4,000 spaces then a letter": " " * (LENGTH - 1) + "a",
    "backslash escapes '\\*'": _fill("\\*"),
    "mentions '@ab '": _fill("@ab "),
    "colons ':'": _fill(":"),
    "closing brackets ']'": _fill("]"),
    "link destinations without end '[x]('": "[x](" * 25 + _fill("x")[:LENGTH - 100],
    "link titles without end": '[x](http://a.b "' * 20 + _fill("x")[:LENGTH - 320],
    "long words with an '@'": _fill("x" * 120 + "@b.cd "),
    "long words with '://'": _fill("x" * 120 + "://b.cd "),
    "Thai text": _fill("ภาษาไทยเป็นภาษาที่ไม่เว้นวรรคระหว่างคำ "),
    "emoji": _fill("😀🎉👍🏽 "),
    "one line, no spaces": "x" * LENGTH,
}

# Pieces for --search: each body is a few of them, drawn with random weights up to 4,000 characters.
PIECES = ["- item\n", "> quote\n", "```\ncode\n```\n", "[a](http://b.cd) ", "*a* ", "**b** ", "~~c~~ ",
          "`d` ", "<http://e.fg> ", "http://h.ij ", "k@l.mn ", "\\* ", "@name ", "1. one\n", "    code\n", "\n",
          "\n\n", "word ", "[", "]", "*", "_", "<", "`", "~", "\\", "@", ":", "://", "> - ", "- > ", "![x](",
          "](", "http://a)", "a\n", "a", " ", "ภาษา", "[a]", "(", ")", "\t", "1. ", "- ", '"', "x" * 40]


def searched(count: int, seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        chosen = rng.sample(PIECES, rng.randint(1, 6))
        weights = [rng.random() for _ in chosen]
        body = ""
        while len(body) < LENGTH:
            body += rng.choices(chosen, weights)[0]
        bodies.append((" + ".join(repr(piece) for piece in chosen), body[:LENGTH]))
    return bodies


def old_renderer(revision: str):
    """render_body of webchat/text.py at a git revision, in a module of its own."""
    source = subprocess.run(["git", "show", f"{revision}:webchat/text.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"webchat_text_{revision}")
    module.__file__ = f"{revision}:webchat/text.py"
    sys.modules[module.__name__] = module  # dataclasses and typing look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module.render_body


def measure(render, body: str, runs: int, clock=time.perf_counter) -> float:
    """Milliseconds for one render: the median of `runs` (after one not counted)."""
    render(body)
    times = []
    for _ in range(runs):
        start = clock()
        render(body)
        times.append(clock() - start)
    return statistics.median(times) * 1e3


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench formatting", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the figure is their median")
    parser.add_argument("--runs", type=int, default=9, help="renders of each body in a round (their median)")
    parser.add_argument("--before", metavar="REV", default=None,
                        help="also time webchat/text.py as it was at this git revision, in the same rounds")
    parser.add_argument("--search", type=int, default=300, metavar="N",
                        help="render N random bodies from PIECES and add the slowest to the table (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    print(f"load average (1, 5, 15 min) at start: {_load()}  ({os.cpu_count()} cores)")
    bodies = dict(BODIES)
    if args.search:
        started = time.perf_counter()
        found = sorted(((measure(render_body, body, 3), name, body) for name, body in searched(args.search, args.seed)),
                       reverse=True)
        print(f"searched {args.search} random bodies in {time.perf_counter() - started:.1f} s; the slowest: "
              + ", ".join(f"{millis:.2f} ms" for millis, _, _ in found[:5]))
        for rank, (_, name, body) in enumerate(found[:5], 1):
            bodies[f"search #{rank}: {name}"] = body

    renderers = {"after": render_body}
    if args.before:
        renderers = {"before": old_renderer(args.before), "after": render_body}
    columns = [*renderers, "after, CPU"]
    figures: dict[str, dict[str, list[float]]] = {name: {label: [] for label in columns} for name in bodies}
    for round_ in range(args.rounds):
        order = list(renderers.items())
        if round_ % 2:
            order.reverse()
        for name, body in bodies.items():
            for label, render in order:
                figures[name][label].append(measure(render, body, args.runs))
            # The process's CPU time: what the render costs, less what other processes' turns add.
            figures[name]["after, CPU"].append(measure(render_body, body, args.runs, time.process_time))

    results = {name: {label: statistics.median(values) for label, values in by.items()} for name, by in figures.items()}
    width = max(map(len, results))
    header = "".join(f"{label:>13}" for label in columns)
    print(f"\n{'body (4,000 characters)':<{width}}{header}   (median of {args.rounds} rounds, each the median of {args.runs} renders)")
    for name, by in sorted(results.items(), key=lambda item: -item[1]["after"]):
        print(f"{name:<{width}}" + "".join(f"{by[label]:10.3f} ms" for label in columns))
    for label in columns:
        worst = max(results, key=lambda name: results[name][label])
        print(f"\nworst {label}: {worst} ({results[worst][label]:.3f} ms for {len(bodies[worst]):,} characters)", end="")
    print(f"\n\nload average (1, 5, 15 min) at end: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
