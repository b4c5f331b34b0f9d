"""Run Jixiao's benchmarks: project vs a baseline, measured in the same run on the same data.

    .venv/bin/python bench/run.py [NAME ...] [--scale small|full] [--db URL]

Every ``bench/bench_<name>.py`` is a benchmark (``NAME`` and ``run(scale, db_url)``);
all run when no NAME is given. Progress goes to stderr; at the end, one line per
benchmark goes to stdout: ``NAME: project X s, baseline Y s, ratio R`` (then the
benchmark's own extra lines). ``--db postgresql+psycopg://user@host:port/db`` runs on
a fresh temporary PostgreSQL database made from that URL (default: a SQLite file).
Speed is measured here only; the tests never assert timings. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def discover() -> dict[str, object]:
    """Benchmark name → module, for every bench/bench_*.py."""
    found = {}
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        found[module.NAME] = module
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (all)")
    parser.add_argument("--scale", choices=["small", "full"], default="full",
                        help="small: a quick check; full: the figures to report (default)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="PostgreSQL URL to make a temporary database from "
                             "(default: a temporary SQLite file)")
    args = parser.parse_args(argv)

    benchmarks = discover()
    unknown = [n for n in args.names if n not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; "
                     f"known: {', '.join(benchmarks)}")
    chosen = args.names or list(benchmarks)
    lines: list[str] = []
    for name in chosen:
        print(f"== {name} (scale {args.scale}, db {args.db or 'sqlite'})",
              file=sys.stderr, flush=True)
        started = time.monotonic()
        result = benchmarks[name].run(args.scale, args.db)
        print(f"== {name} done in {time.monotonic() - started:.0f} s",
              file=sys.stderr, flush=True)
        lines += result.lines(name)
    print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
