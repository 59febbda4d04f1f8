"""Studies: experiments that are not "train on episodes, then evaluate on train and test".

The Tree gridworld learns continually with no resets, and the expressions task is learned from
example dialogues rather than from reward; neither fits `gmg.train.Experiment`. Each study is one
module here with:

    NAME, TITLE                  registry name and display title
    GOALS                        {"intended": ..., "proxy": ...}
    LEARNER                      name of the learner it trains (the JSON's "agent")
    Config                       frozen dataclass of `gmg.params.param` fields: the world, the
                                 learner and the run length together (one namespace for --set)
    run(config, seed, on_progress=None, stop=None) -> result
                                 picklable result; on_progress(row) gets dicts with a "fraction"
                                 in 0..1; a set `stop` event ends the run early
    summary(result) -> dict      the JSON of `python -m gmg experiment NAME --json`

`StudyRun` names one run (frozen and hashable, a cache key like Experiment) and `run_study` is the
runner `gmg.jobs.TrainJob` starts in a child process for it.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass

from ..diagnose import verdict_report
from ..params import ParamError, with_overrides

STUDY_MODULES = ("tree", "expressions")


@functools.cache
def _registry() -> dict:
    modules = [importlib.import_module(f"{__name__}.{name}") for name in STUDY_MODULES]
    return {module.NAME: module for module in modules}


def __getattr__(name: str):
    # STUDIES is built on first use, so importing one study module does not import the others
    if name == "STUDIES":
        return _registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class StudyRun:
    """Everything that determines a study run."""

    study: str
    seed: int
    config: object
    runner = "gmg.studies:run_study"  # what gmg.jobs.TrainJob runs in its child process

    @classmethod
    def build(cls, study: str, seed: int = 0, overrides: dict | None = None) -> "StudyRun":
        """A validated run from user input (raw strings or values); raises ParamError."""
        if study not in _registry():
            raise ParamError(f"unknown study {study!r}; known: {', '.join(_registry())}")
        return cls(study, int(seed), with_overrides(_registry()[study].Config(), overrides or {}))

    @property
    def module(self):
        return _registry()[self.study]

    # TrainJob names its watcher thread after the agent
    @property
    def agent_name(self) -> str:
        return self.module.LEARNER

    def summarize(self, result) -> dict:
        return self.module.summary(result)


def run_study(run: StudyRun, on_progress=None, stop=None, record: int = 0):
    """The TrainJob runner for a StudyRun (`record` is the episodic runner's and unused here)."""
    return run.module.run(run.config, run.seed, on_progress=on_progress, stop=stop)


def diagnose_study(run: StudyRun, on_progress=None, stop=None, result=None) -> dict:
    """The diagnosis of a study run whose module has `diagnose(result)`: one evidence dict per copy of
    its world, judged by gmg.diagnose's one rule. The verdict is copy 0's; with several copies, each
    one's verdict is listed under "copies"."""
    if not hasattr(run.module, "diagnose"):
        raise ParamError(f"{run.study} cannot be diagnosed: its study has no diagnose(result)")
    if result is None:
        result = run_study(run, on_progress=on_progress, stop=stop)
    report = run.module.summary(result)
    reports = [verdict_report(report, evidence) for evidence in run.module.diagnose(result)]
    if len(reports) > 1:
        reports[0]["copies"] = [{"verdict": r["verdict"], "probabilities": r["probabilities"]} for r in reports]
    return reports[0]
