"""gmg: an explorer of goal misgeneralization (pure library; the UI lives in gmg.ui and pages/)."""

import os

# The learners multiply small matrices, where BLAS threads only contend (on 2 cores a fit ran
# 1.5 s with one thread and 9-21 s with several). Effective only where gmg is imported before
# numpy: the training worker (python -m gmg.worker) and the CLI (python -m gmg).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Every range check applies the server's caps (GMG_CAPS): gmg.caps installs its lookup in gmg.params.
from . import caps  # noqa: E402,F401
