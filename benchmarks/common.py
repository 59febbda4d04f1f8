"""What the benchmark scripts share: the --seeds/--quick command line and the machine line."""

from __future__ import annotations

import os

# before numpy loads: small matrices, where BLAS threads only contend (see gmg/__init__.py)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, without installing

from gmg import compiled  # noqa: E402


def seeds_arguments(doc: str, default: int, quick: int, quick_help: str, argv=None, minimum: int = 1,
                    more=None) -> argparse.Namespace:
    """--seeds N (at least `minimum`) and --quick; `seeds` is filled in from the mode when not given.
    `more(parser)` adds a script's own options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if more is not None:
        more(parser)
    parser.add_argument("--seeds", type=int, default=None, help=f"seeds (default {default}; {quick} with --quick)")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = quick if args.quick else default
    if args.seeds < minimum:
        parser.error(f"--seeds must be >= {minimum}")
    return args


def machine_line(name: str) -> str:
    return (f"gmg {name} benchmark: Python {platform.python_version()}, numpy {np.__version__}, "
            f"{os.cpu_count()} CPU(s), {platform.machine()}, OPENBLAS_NUM_THREADS="
            f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")


def exit_with(main) -> None:
    """Exit with main()'s code; Ctrl-C exits 130 without a traceback."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemError as error:  # Ctrl-C while a compiled kernel ran (gmg.compiled.interrupted)
        if compiled.interrupted(error):
            sys.exit(130)
        raise
