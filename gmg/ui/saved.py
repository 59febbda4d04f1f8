"""Saved runs (gmg.storage): each visitor's own, saved from Explore, reopened as background jobs."""

from __future__ import annotations
from .runs import training_controls
from .state import OWNER_KEY, result_store


import streamlit as st

from ..params import clip
from ..storage import OWNER, SHARED, RunExists, RunStore, StorageError, new_owner, shared
from ..train import Experiment




def run_owner() -> str:
    """The visitor's key to their saved runs: from the link's `owner`, else the session's, else a new one.

    The Saved runs page writes it into its own link, and a visitor comes back to their runs by that
    link (a bookmark): a link, not a cookie, because Streamlit reads cookies (st.context.cookies) but
    cannot set one without JavaScript on the page (st.html with unsafe_allow_javascript), a cookie is
    not sent when the app is embedded in another site (third-party), and AppTest cannot seed cookies,
    so the behaviour could not be tested. Streamlit drops a parameter no widget is bound to when the
    visitor moves to another page, so no other page's link carries the key: sharing a view of Explore
    does not share one's runs; sharing the Saved runs page's link does, and that page says so.
    """
    linked = st.query_params.get(OWNER_KEY)
    if linked is not None:
        if OWNER.match(linked):
            st.session_state["run_owner"] = linked
        else:  # said once: the parameter leaves the link
            st.error(f"Link parameter `{OWNER_KEY}={clip(linked)}` is not a key to saved runs: ignored.",
                     icon=":material/error:")
            del st.query_params[OWNER_KEY]
    return st.session_state.setdefault("run_owner", new_owner())


def run_store() -> RunStore:
    """This visitor's saved runs (GMG_RUN_STORE), or the one shared folder if the operator opted in
    (GMG_RUN_STORE_SHARED=1)."""
    return RunStore(SHARED if shared() else run_owner())


def save_run_control(page: str, experiment: Experiment) -> None:
    """A name and a Save button: the shown run goes to the visitor's saved runs, to reopen after a restart.

    A name already used is not replaced at once: the page asks, and Replace (a second click) replaces it.
    """
    with st.expander("Save this run"):
        row = st.container(horizontal=True, vertical_alignment="bottom")
        name = row.text_input("Name", max_chars=64, key=f"{page}_save_name",
                              placeholder=f"{experiment.env_name} seed {experiment.seed}")
        name = name.strip() or f"{experiment.env_name} seed {experiment.seed}"
        asked = f"{page}_save_asked"  # the name whose replacement the page asks to confirm
        if row.button("Save", key=f"{page}_save", icon=":material/save:"):
            st.session_state[asked] = _save(name, experiment, replace=False)
        if st.session_state.get(asked) == name:
            question = st.empty()
            if st.button("Replace", key=f"{page}_save_replace", icon=":material/swap_horiz:"):
                st.session_state[asked] = None
                _save(name, experiment, replace=True)
            else:
                question.warning(f"A saved run is already named \"{name}\". Replace it with this run?",
                                 icon=":material/warning:")


def _save(name: str, experiment: Experiment, replace: bool) -> str | None:
    """Save the shown run and say how it went; the name, if it is taken and `replace` is off."""
    store = run_store()
    try:
        saved = store.save(name, result_store().get(experiment), replace=replace)
    except RunExists:
        return name
    except StorageError as exc:
        st.error(f"Not saved: {exc}", icon=":material/error:")
        return None
    where = ("the Saved runs page" if store.owner == SHARED else
             f"the [Saved runs](runs?{OWNER_KEY}={store.owner}) page (that link is the key to your runs: keep it)")
    st.success(f"Saved as \"{saved.name}\": open it on {where}, now or after a restart.")
    return None


def open_saved(page: str, names: list[str]) -> dict[str, Experiment] | None:
    """Reopen saved runs as background jobs (cached like any run: opening one again is instant) and
    show their progress; {name: its key} once every one is evaluated, else None. A run that cannot be
    read is reported and skipped."""
    keys = {}
    for name in names:
        try:
            keys[name] = run_store().key(name)
        except StorageError as exc:
            st.error(f"Cannot open \"{name}\": {exc}", icon=":material/error:")
    if not keys:
        return None
    training_controls(page, list(keys.values()), label="Evaluate again", start="whenever missing")
    return keys if all(key in result_store() for key in keys.values()) else None
