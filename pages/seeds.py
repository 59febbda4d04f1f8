"""Seed variance: the same settings, many seeds; each agent diagnosed, preference against capability."""

import streamlit as st

from gmg import seeds, ui
from gmg.render.diagnosis import scatter_figure

PAGE = "seeds"
PAGE_SEEDS = 5  # a handful: a first look in about a minute (the command line's default is seeds.DEFAULT_SEEDS)

ui.init_state()
ui.navigation_links()
st.title("Seed variance: does the seed alone change the goal?")
st.markdown(
    "Agents trained with the same settings and different seeds can prefer different goals. This page trains "
    "one agent per seed (one after another, in the background), diagnoses each, and plots its preference for the intended goal "
    "against its capability, as the results arrive. Ringed dots are outliers: a verdict unlike the majority's, "
    "or a preference or capability far from the others. For hundreds of seeds, use the command line on a Dask "
    "cluster: `python -m gmg seeds monster --seeds 500 --dask-scheduler tcp://HOST:8786`."
)
settings = ui.sidebar_settings(PAGE)
count = ui.seeds_control(PAGE, "seeds", PAGE_SEEDS, 100)
job = ui.checked(lambda: seeds.SeedStudy(settings.experiment(), int(count)))
jobs = [job] if job else []
# a study of many seeds is minutes of both cores: it waits for the click
ui.training_controls(PAGE, jobs, label="Train every seed", auto_start=False)

shown = ui.shown_runs(PAGE, jobs)
if shown is None:
    st.stop()
[(job, result)] = shown
env = job.experiment.make_env()
ui.show_figure(scatter_figure(result["seeds"], env.goals["intended"], env.goals["proxy"]), "seeds_scatter")
counts = ", ".join(f"{verdict.replace('_', ' ')}: {n}" for verdict, n in result["verdict_counts"].items() if n)
st.markdown(f"**Verdicts.** {counts}. Outlier seeds: {', '.join(map(str, result['outliers'])) or 'none'}.")
table = seeds.points_table(result)
st.dataframe(table, hide_index=True)
ui.study_downloads(PAGE, result, {f"gmg_{PAGE}_per_seed.csv": table.to_csv(index=False)})
