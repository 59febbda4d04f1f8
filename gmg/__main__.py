"""`python -m gmg ...`: see gmg.cli."""

import os
import sys

try:
    from .cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C while importing numpy & co.
    sys.stderr.write("gmg: interrupted\n")
    code = 130
except BrokenPipeError:  # e.g. `python -m gmg list | head -1`: stop quietly
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
sys.exit(code)
