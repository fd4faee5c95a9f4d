"""Command line: ``python -m ferrokit [--version | config | selftest | bench | serve]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["serve"]:
        from ferrokit._serve import main as serve

        return serve(args_in[1:])
    parser = argparse.ArgumentParser(prog="python -m ferrokit", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print versions, threads and SIMD level")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("config", help="same as --version")
    sub.add_parser("selftest", help="check the installed package against numpy")
    bench = sub.add_parser("bench", help="run the benchmark suite (the main job)")
    bench.add_argument("--quick", action="store_true", help="fewer sizes and repeats (smoke test)")
    bench.add_argument("--out", default="bench-results", help="folder for JSON and PNG results")
    bench.add_argument(
        "--suite",
        action="append",
        help="run only this suite (repeatable); the suites are listed in ferrokit.benchmarks.SUITES",
    )
    sub.add_parser(
        "serve",
        help="run the Open Inference Protocol server on a model file or folder "
        "(`python -m ferrokit serve --help` lists its options)",
    )
    args = parser.parse_args(argv)

    if args.version or args.command == "config":
        from ferrokit.runtime import show_config

        show_config()
        return 0
    if args.command == "selftest":
        from ferrokit._selftest import run

        return run()
    if args.command == "bench":
        from ferrokit.benchmarks import SUITES
        from ferrokit.benchmarks import run as run_bench

        unknown = sorted(set(args.suite or []) - set(SUITES))
        if unknown:
            parser.error(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
        return run_bench(quick=args.quick, out_dir=args.out, suites=args.suite)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
