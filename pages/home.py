"""Home: what goal misgeneralization is, why it matters, and how to use the explorer."""

from pathlib import Path

import streamlit as st

from gmg import ui

PRESET_PICTURE = Path(__file__).resolve().parents[1] / "docs" / "preset.png"  # a screenshot of the Monster preset

ui.init_state()
ui.navigation_links()
st.title("Goal misgeneralization explorer")
# the point first: what GMG is, one button into the lecture's first example, and what it shows
words, picture = st.columns([1, 1])
words.markdown(
    """
**Goal misgeneralization** (GMG) happens when an agent learns to do well on its training
distribution but, in a new situation, competently pursues a goal that is *not* the one we
intended — a proxy that agreed with the intended goal during training
([Langosco et al. 2022](https://arxiv.org/abs/2105.14111);
[Shah et al. 2022](https://arxiv.org/abs/2210.01790)).

**The Monster gridworld.** Apples give reward (the *intended* goal); shields protect against
monsters (the *proxy*: useful only while monsters live). Trained on short 25-step episodes, an
agent rarely sees a world without monsters, learns "collect shields" as a goal in itself, and
keeps collecting them in long test episodes after the last monster died. Trained on 200-step
episodes, it learns that shields stop mattering.
"""
)
with words:
    ui.page_link("pages/compare.py", "Open the shields vs apples preset", ":material/compare_arrows:")
picture.image(str(PRESET_PICTURE), caption="The preset: both agents on the same test map, and which goal "
              "explains their actions (shields: blue) once the last monster died.")
st.markdown(
    """
**Why it matters.** An agent that breaks in a new situation is a nuisance; an agent that keeps
its skills but aims them at the wrong goal is worse: it acts effectively, and nothing in its
training reward warned us. GMG is not a bug in the reward — the reward was right — but a choice
the learner made between goals the training data could not tell apart.
"""
)
st.subheader("How to use it")
st.markdown(
    """
1. **Preset: failure vs cure** (shields vs apples for Monster) trains the 25-step and the 200-step agent with one click and
   plays them side by side on the same test maps.
2. **Explore** trains one agent with your settings (sidebar) in the background, shows its
   learning curve live, then animates it on a training map and a test map in sync, with plots
   that attribute its behaviour to the intended or the proxy goal.
3. **Tree gridworld**: no train/test split at all. An agent that learns while it acts chops the
   forest to extinction (the proxy: chop the nearest tree now), endures the barren stretch it
   caused, then learns restraint.
4. **Expressions (not RL)**: a dialogue model learned from examples asks "What's 6?" about
   `6 + 2`. Goal misgeneralization is not specific to reinforcement learning.
5. **Diagnose** tells goal misgeneralization from specification gaming (would the specified
   reward have preferred the intended behaviour?), generalization and plain incompetence;
   **Seed variance** does it for many seeds at once.
6. **Keys and chests**, **follow the expert**, the **coin** and the **maze cheese** are on Explore
   (environment picker) and the failure-vs-cure preset; **Sweep** turns one knob over several values
   and seeds, **Move the cheese** maps where an agent goes with the object on every cell, and
   **Saved runs** keeps runs across restarts.
7. Every view is a link: the URL holds your settings, so you can share exactly what you see.
   Runs are cached, so the same settings replay instantly.
"""
)
ui.page_link("pages/explore.py", "Explore with your own settings", ":material/science:")
ui.page_link("pages/tree.py", "Watch the Tree gridworld crash and recover", ":material/park:")
ui.page_link("pages/diagnose.py", "Diagnose: goal misgeneralization or specification gaming?", ":material/troubleshoot:")
