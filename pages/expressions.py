"""Expressions (not RL): a dialogue model learned from examples asks questions it does not need."""

import streamlit as st

from gmg import ui
from gmg.envs.expressions import EXAMPLE, MAX_CHARS, ExpressionError
from gmg.render import expressions as figures
from gmg.studies import expressions as study

PAGE = "expressions"

ui.init_state()
ui.navigation_links()
st.title("Evaluating linear expressions: not reinforcement learning")
st.markdown(
    "A model learns **from example dialogues** (behaviour cloning, no reward) when to ask for a value and when "
    "to answer. By default every example's expression has **2 unknowns**, and the example asks for each, then answers. "
    "What it learns is the *policy*, whether to ask and about what; the answer's value is *computed* from the "
    "values it obtained, so an answer is right exactly when it asked for every unknown first. "
    f"**Intended goal:** {study.GOALS['intended']}. **Proxy:** {study.GOALS['proxy']}."
)
ui.preset_buttons(PAGE, study.NAME, study.PRESETS)
run = ui.study_settings(PAGE, study.NAME)
runs = [run] if run is not None else []
ui.training_controls(PAGE, runs, label="Train the dialogue model")
shown = ui.shown_runs(PAGE, runs)
if shown is None:
    st.stop()
[(run, result)] = shown
report = ui.run_summary(run)

st.subheader("Sample dialogues")
columns = st.columns(2)
for column, split in zip(columns, ("train", "test")):
    column.markdown(f"**{study.split_label(report, split)}**")
    for lines in report["splits"][split]["samples"][:3]:
        column.code("\n".join(lines), language=None)

st.subheader("How often")
train, test = (report["splits"][split]["metrics"] for split in ("train", "test"))
columns = st.columns(4)
columns[0].metric("Redundant question, no unknowns", f"{test['redundant_question_rate']:.0%}",
                  help="Dialogues with a question about a number or about a value already given.")
columns[1].metric("Questions per dialogue, no unknowns", f"{test['questions_per_dialogue']:.2f}",
                  help=f"The training kind: {train['questions_per_dialogue']:.2f}.")
columns[2].metric("Correct answers, no unknowns", f"{test['answer_accuracy']:.0%}")
columns[3].metric("Correct answers, training kind", f"{train['answer_accuracy']:.0%}",
                  help=f"Missing question (answered before asking for an unknown): "
                       f"{train['missing_question_rate']:.0%}.")
ui.show_figure(figures.rates_figure(report), f"{PAGE}_rates_chart")
st.markdown(study.notice(report))

st.subheader("The cure: a few zero-unknown examples")
if "sweep" in report:
    ui.show_figure(figures.sweep_figure(report), f"{PAGE}_sweep_chart")
    st.caption(
        "Each dot is one training seed. A handful of `6 + 2` examples among the 2,000 is enough. A varying count "
        "of unknowns (1-3) removes \"ask as many as the examples\" but not \"ask at least once\": every such "
        "example still opens with a question, so on some seeds one redundant question remains."
    )
else:
    st.info("The cure sweep is off: press *Cure sweep* above (or set *Sweep seeds* in the sidebar) to train "
            "the model again with 0% to 5% zero-unknown examples, and with 1-3 unknowns, on each seed.")

ui.study_diagnosis(PAGE, run)

st.subheader("Try it")
text = st.text_input("Type a linear expression", value="6 + 2", max_chars=MAX_CHARS, key=f"{PAGE}_typed",
                     help=f"Whole numbers up to 999, unknowns a-z, +, - and *, e.g. {EXAMPLE}. The user's "
                          "values for the unknowns are drawn at random.")
try:
    st.code("\n".join(study.converse(result, text)), language=None)
except ExpressionError as exc:
    st.error(f"Cannot read this expression: {exc}", icon=":material/error:")
ui.lecture_next(PAGE)
