"""Summarise a py-spy profile recorded with ``--format raw`` (collapsed stacks).

    py-spy record --threads --idle --rate 200 --format raw -o prof.txt -- ferry run ...
    python3 bench/pyspy_shares.py prof.txt [--top 25] [--thread NAME]

Prints, over all samples (or one thread's), the share of samples in which each
function is on the stack (inclusive) and the share in which it is the running
frame (self), so "where the time goes" reads as function -> share.
"""

from __future__ import annotations

import argparse
import collections
import re

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def frames(stack: str) -> list[str]:
    """``func (file:line)`` frames -> ``func (file)`` (lines merged)."""
    out = []
    for raw in stack.split(";"):
        m = FRAME.match(raw)
        out.append(f"{m['func']} ({_short(m['file'])})" if m else raw)
    return out


def _short(path: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--thread", help="only stacks whose first frame (thread) contains this")
    args = ap.parse_args()
    inclusive, own = collections.Counter(), collections.Counter()
    threads = collections.Counter()
    total = 0
    for line in open(args.profile, encoding="utf-8"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        n = int(count)
        thread, _, rest = stack.partition(";")
        threads[thread] += n
        if args.thread and args.thread not in thread:
            continue
        fs = frames(rest) if rest else ["(no Python frame)"]
        total += n
        for f in set(fs):
            inclusive[f] += n
        own[fs[-1]] += n
    print(f"{total} samples" + (f" in threads matching {args.thread!r}" if args.thread else ""))
    for thread, n in threads.most_common():
        print(f"  {n:7d}  {thread}")
    print(f"\n{'inclusive':>9}  {'self':>6}  function (file)")
    for f, n in inclusive.most_common(args.top):
        print(f"{100 * n / total:8.1f}%  {100 * own[f] / total:5.1f}%  {f}")
    print(f"\nself time, top {args.top}")
    for f, n in own.most_common(args.top):
        print(f"{100 * n / total:8.1f}%  {f}")


if __name__ == "__main__":
    main()
