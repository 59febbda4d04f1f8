"""The computational core imports neither streamlit nor plotly: the CLI and the library work without them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("gmg.cli", "gmg.envs", "gmg.agents", "gmg.train", "gmg.rollout", "gmg.goals", "gmg.probe", "gmg.experiment",
        "gmg.diagnose", "gmg.seeds", "gmg.sweep", "gmg.studies.tree", "gmg.studies.expressions", "gmg.storage",
        "gmg.jobs", "gmg.worker", "gmg.caps", "gmg.params", "gmg.bundle")
BLOCK = """
import sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("streamlit", "plotly"):
            raise ImportError(f"the core imported {name}")
sys.meta_path.insert(0, Blocked())
"""


def test_the_core_and_its_cli_run_with_streamlit_and_plotly_blocked():
    script = BLOCK + f"""
import importlib
for name in {CORE!r}:
    importlib.import_module(name)
from gmg.cli import main
sys.exit(main(["experiment", "monster", "--set", "train_steps=2048", "--set", "eval_episodes=4", "--json"]))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"splits"' in done.stdout


def test_the_blocker_blocks():
    """The test above could not pass by accident: with the blocker, importing the render layer fails."""
    done = subprocess.run([sys.executable, "-c", BLOCK + "import gmg.render"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode != 0 and "the core imported plotly" in done.stderr
