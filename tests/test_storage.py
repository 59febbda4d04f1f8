"""Saved runs: .npz + JSON round trips, and tampered or foreign files fail cleanly."""

import json

import numpy as np
import pytest

from gmg.experiment import summary
from gmg.storage import RunStore, StorageError, load_run, save_run


def test_a_saved_run_loads_as_the_same_run(fast_result, tmp_path):
    save_run(fast_result, tmp_path / "run")
    loaded = load_run(tmp_path / "run")
    assert loaded.experiment == fast_result.experiment
    for name, value in fast_result.trained.agent.params.items():
        assert np.array_equal(loaded.trained.agent.params[name], value)
    before, after = summary(fast_result), summary(loaded)
    assert after == before  # evaluation is a function of the seed
    assert not any(path.suffix == ".pkl" for path in (tmp_path / "run").iterdir())


@pytest.fixture
def saved(fast_result, tmp_path):
    return save_run(fast_result, tmp_path / "run")


def edit_json(folder, change):
    meta = json.loads((folder / "run.json").read_text())
    change(meta)
    (folder / "run.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(format="something else"), "not a saved gmg run"),
    (lambda m: m.update(version=99), "version"),
    (lambda m: m.update(env="nosuch"), "refuses"),
    (lambda m: m["config"].update(size=-4), "refuses"),
    (lambda m: m["config"].update(gamma="NaN"), "refuses"),
    (lambda m: m.pop("seed"), "lacks a field"),
    (lambda m: m.update(curve="rm -rf /"), "curve"),
])
def test_tampered_json_fails_cleanly(saved, change, message):
    edit_json(saved, change)
    with pytest.raises(StorageError, match=message):
        load_run(saved)


def test_tampered_or_foreign_arrays_fail_cleanly(saved):
    params = dict(np.load(saved / "agent.npz"))
    name = next(iter(params))
    cases = {
        "missing": {},
        "wrong shape": {name: np.zeros(3)},
        "not finite": {name: np.full_like(params[name], np.nan)},
        "objects": None,  # a pickled object array: allow_pickle=False refuses it
    }
    for label, arrays in cases.items():
        if arrays is None:
            np.savez(saved / "agent.npz", **{name: np.array([{"a": 1}], dtype=object)})
        else:
            np.savez(saved / "agent.npz", **arrays)
        with pytest.raises(StorageError):
            load_run(saved)
    (saved / "agent.npz").write_bytes(b"not a zip at all")
    with pytest.raises(StorageError, match="not a readable"):
        load_run(saved)
    (saved / "run.json").write_bytes(b"\xff\xfe garbage")
    with pytest.raises(StorageError, match="not valid JSON"):
        load_run(saved)


def test_the_store_lists_loads_and_deletes(fast_result, tmp_path):
    store = RunStore(tmp_path / "store")
    assert store.list() == []
    store.save("first run", fast_result)
    store.save("second", fast_result)
    (tmp_path / "store" / "junk").mkdir()  # an unreadable folder is left out, not an error
    assert {run.name for run in store.list()} == {"first run", "second"}
    assert store.list()[0].env == "monster"
    assert summary(store.load("second")) == summary(fast_result)
    store.delete("first run")
    assert [run.name for run in store.list()] == ["second"]
    with pytest.raises(StorageError, match="no saved run"):
        store.load("first run")


@pytest.mark.parametrize("name", ["../escape", "", ".", "a/b", "x" * 65, "nul\x00", "..", "~root"])
def test_store_names_cannot_escape_the_folder(tmp_path, fast_result, name):
    with pytest.raises(StorageError, match="name"):
        RunStore(tmp_path).save(name, fast_result)
