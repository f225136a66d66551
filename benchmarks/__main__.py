"""``python -m benchmarks``: run the workloads, check the tools agree, print medians and ratios.

Examples::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks
    python -m benchmarks scalar mlp --tools torch,jax --min-time 2
    python -m benchmarks --size tiny            # a quick smoke run
    python -m benchmarks --markdown results.md  # the table for benchmarks/README.md
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import sys

from . import WORKLOADS
from ._harness import PEERS, available, run_workload, table


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for tool in PEERS:
        if not available(tool):
            versions[tool] = "not installed"
            continue
        try:
            versions[tool] = importlib.metadata.version(tool)
        except importlib.metadata.PackageNotFoundError:
            versions[tool] = "installed"
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
                                           "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                if k in os.environ},
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workloads", nargs="*", metavar="WORKLOAD",
                   help=f"which to run (default: all): {', '.join(WORKLOADS)}")
    p.add_argument("--size", choices=("full", "tiny"), default="full",
                   help="'tiny': a smoke run at toy sizes, each case timed once (--min-time 0 "
                        "--min-repeats 1 unless given); it checks that the tools agree and "
                        "judges no targets (toy sizes measure per-call overhead)")
    p.add_argument("--tools", help="comma-separated peers to include (chainrule always runs)")
    p.add_argument("--min-time", type=float, default=None,
                   help="seconds per case (default 1; 0 with --size tiny)")
    p.add_argument("--min-repeats", type=int, default=None,
                   help="runs per case at least (default 5; 1 with --size tiny)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall time (default), or process CPU time (all threads)")
    p.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")
    p.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = p.parse_args(argv)
    tiny = args.size == "tiny"
    if args.min_time is None:
        args.min_time = 0.0 if tiny else 1.0
    if args.min_repeats is None:
        args.min_repeats = 1 if tiny else 5

    if args.list:
        for name, w in WORKLOADS.items():
            print(f"{name:10s} {w.title.format(**w.variants('full')[0])}")
        return 0
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    tools = set(args.tools.split(",")) if args.tools else None
    info = machine()
    command = "python -m benchmarks" + (" " + " ".join(sys.argv[1:]) if argv is None else "")
    print(f"chainrule benchmarks  {info['date']}\n{info['machine']}, Python {info['python']}")
    print("  " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    if info["env"]:
        print(f"  environment: {info['env']}")
    print(f"  clock: {args.clock}, median of >= {args.min_repeats} timed runs and >= {args.min_time:g} s "
          "per case, round-robin\n")

    results = []
    for name in args.workloads or list(WORKLOADS):
        w = WORKLOADS[name]
        for params in w.variants(args.size):
            res = run_workload(w, params, tools, min_time=args.min_time,
                               min_repeats=args.min_repeats, clock=args.clock, size=args.size)
            results.append(res)
            print(table(res), flush=True)

    met = [t for r in results for t in r.targets()]
    if args.size != "full":
        print(f"Targets: not judged at --size {args.size} (toy sizes measure per-call overhead, "
              "not the workloads); run --size full.")
    if met:
        print("Targets:")
        for r in results:
            for desc, ratio, limit, ok in r.targets():
                status = "n/a" if ok is None else ("met" if ok else "NOT met")
                shown = "-" if ratio is None else f"{ratio:.2f}"
                print(f"  [{status:7s}] {r.title}: {desc} = {shown} (limit {limit:g})")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"Date: {info['date']}  \nMachine: {info['machine']}  \n"
                    f"Python {info['python']}; "
                    + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + "  \n"
                    f"Command: `{command}`  \nClock: {args.clock}; each number is the median of "
                    f">= {args.min_repeats} timed runs (each right after an untimed one) and "
                    f">= {args.min_time:g} s per case, tools interleaved round-robin.\n\n")
            for r in results:
                f.write(table(r, markdown=True) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "command": command, "clock": args.clock, "results": [
                {"workload": r.workload.name, "params": r.params, "title": r.title,
                 "skipped": r.skipped,
                 "rows": [{"name": x.name, "value": x.value, "samples": x.samples, "error": x.error,
                           "note": x.note} for x in r.rows],
                 "targets": [{"target": d, "ratio": q, "limit": lim, "met": ok}
                             for d, q, lim, ok in r.targets()]} for r in results]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
