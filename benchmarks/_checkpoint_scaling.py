"""Issue 16's checkpoint targets against depth, for each shape of :data:`SHAPES`:
``python -m benchmarks._checkpoint_scaling [--shape WIDTHxBATCH ...] [--clock cpu|wall]
[--min-repeats N] [--min-time S] [LAYERS ...]`` (default: both shapes; 25, 50, 100, 200 layers).

(A module of its own, so that running it does not re-execute ``benchmarks.checkpoint``;
see :func:`benchmarks.checkpoint.scaling`.)
"""

import argparse

from .checkpoint import SHAPES, scaling


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks._checkpoint_scaling",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("layers", nargs="*", type=int, default=[25, 50, 100, 200])
    p.add_argument("--shape", action="append", metavar="WIDTHxBATCH",
                   type=lambda s: tuple(int(v) for v in s.split("x")),
                   help=f"default: {' and '.join(f'{w}x{b}' for w, b in SHAPES)}")
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    p.add_argument("--min-repeats", type=int, default=5)
    p.add_argument("--min-time", type=float, default=1.0)
    args = p.parse_args(argv)
    for width, batch in args.shape or SHAPES:
        print(f"#### Width {width}, batch {batch}\n", flush=True)
        print(scaling(tuple(args.layers), width, batch, args.clock, args.min_repeats,
                      args.min_time) + "\n", flush=True)


if __name__ == "__main__":
    main()
