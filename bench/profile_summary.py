"""Where the CPU went, from py-spy's collapsed stacks (``--format raw``).

``python -m bench.profile_summary FILE [--top N] [--match TEXT]`` prints, for
the samples in FILE (e.g. the ones ``BENCH_WEBHOOKS_PROFILE`` records):

- the share of samples on the event loop and on each kind of thread;
- the functions by inclusive share (the function or anything it called was
  on the CPU), and by self share (the function itself was the leaf);
- with ``--match``, only the stacks that contain TEXT.

Frames are named ``function (file)``, without line numbers, so the lines of
one function add up. Used to record the webhook intake's profile before and
after a change (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"\s*\(([^():]+?)(?::\d+)?\)$")


def _frame(raw: str) -> str:
    """``name (path/to/file.py:12)`` → ``name (file.py)``."""
    match = _LINE.search(raw)
    if not match:
        return raw.strip()
    path = match.group(1)
    short = "/".join(path.split("/")[-2:])
    return f"{raw[: match.start()].strip()} ({short})"


def _thread_kind(frames: list[str]) -> str:
    for frame in frames:
        if frame.startswith("thread ("):
            name = frame.split(":", 1)[1].strip() if ":" in frame else frame
            return re.sub(r"_\d+$", "", name)
    return "?"


def summarise(path: Path, *, top: int = 30, match: str | None = None) -> str:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        if match and match not in stack:
            continue
        count = int(count_text)
        raw = stack.split(";")
        frames = [f for f in raw if not f.startswith(("process ", "thread ("))]
        total += count
        threads[_thread_kind(raw)] += count
        named = [_frame(f) for f in frames]
        for name in set(named):
            inclusive[name] += count
        if named:
            self_time[named[-1]] += count
    if not total:
        return f"{path}: no samples"
    out = [f"{path}: {total} samples" + (f" containing {match!r}" if match else "")]
    out.append("threads: " + ", ".join(f"{k} {v / total:.0%}" for k, v in threads.most_common()))
    out.append(f"\ninclusive (top {top}):")
    out += [f"  {v / total:6.1%}  {k}" for k, v in inclusive.most_common(top)]
    out.append(f"\nself (top {top}):")
    out += [f"  {v / total:6.1%}  {k}" for k, v in self_time.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match")
    args = parser.parse_args()
    print(summarise(args.file, top=args.top, match=args.match))


if __name__ == "__main__":
    main()
