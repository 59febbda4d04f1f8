"""Saved runs: .npz + JSON round trips, and tampered or foreign files fail cleanly; the store keeps each
owner's runs apart, within quotas, and a hostile store (links, unreadable runs, full disks) fails cleanly."""

import json
import os

import numpy as np
import pytest

from gmg import caps
from gmg.experiment import summary
from gmg.storage import (MB, SHARED, Quota, RunExists, RunStore, StorageError, load_run, new_owner, reopen_run,
                         save_run)

ALICE, BOB = new_owner(), new_owner()
ROOMY = Quota(runs=100, bytes=100 * MB, total_runs=1000, total_bytes=1000 * MB)


def store(tmp_path, owner=ALICE, quota=ROOMY) -> RunStore:
    return RunStore(owner, tmp_path / "store", quota)


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
    runs = store(tmp_path)
    assert runs.list() == []
    runs.save("first run", fast_result)
    runs.save("second", fast_result)
    assert {run.name for run in runs.list()} == {"second", "first run"}
    assert runs.list()[0].env == "monster"
    assert summary(reopen_run(runs.key("second"))) == summary(fast_result)
    runs.delete("first run")
    assert [run.name for run in runs.list()] == ["second"]
    with pytest.raises(StorageError, match="no saved run"):
        reopen_run(runs.key("first run"))


@pytest.mark.parametrize("name", ["../escape", "", ".", "a/b", "x" * 65, "nul\x00", "..", "~root"])
def test_store_names_cannot_escape_the_folder(tmp_path, fast_result, name):
    with pytest.raises(StorageError, match="name"):
        store(tmp_path).save(name, fast_result)


# ------------------------------------------------------------------------------------ owners
def test_each_owner_sees_and_deletes_only_their_own_runs(fast_result, tmp_path):
    store(tmp_path, ALICE).save("mine", fast_result)
    bob = store(tmp_path, BOB)
    assert bob.list() == []
    with pytest.raises(StorageError, match="no saved run"):
        reopen_run(bob.key("mine"))
    bob.delete("mine")  # nothing of Bob's to delete
    bob.save("mine", fast_result)  # the same name is Bob's own run: not a replacement of Alice's
    assert [run.name for run in store(tmp_path, ALICE).list()] == ["mine"]
    assert (tmp_path / "store" / ALICE / "mine" / "run.json").is_file()
    assert (tmp_path / "store" / BOB / "mine" / "run.json").is_file()


@pytest.mark.parametrize("owner", ["", "..", "../" + ALICE[3:], "short", "x" * 25, ALICE[:-1] + "/", None, 7])
def test_an_owner_key_is_a_random_token_and_cannot_name_another_folder(tmp_path, owner):
    with pytest.raises(StorageError, match="not a key"):
        RunStore(owner, tmp_path)


def test_the_operator_can_choose_one_shared_folder(fast_result, tmp_path, monkeypatch):
    from gmg import storage

    assert not storage.shared()
    monkeypatch.setenv(storage.SHARED_ENV, "1")
    assert storage.shared()
    store(tmp_path, SHARED).save("for everyone", fast_result)
    assert (tmp_path / "store" / "shared" / "for everyone").is_dir()


# ------------------------------------------------------------------------------------ quotas
def test_quotas_on_runs_and_bytes_per_owner_and_in_total(fast_result, tmp_path):
    one_run = store(tmp_path, ALICE, Quota(1, 100 * MB, 1000, 1000 * MB))
    one_run.save("first", fast_result)
    with pytest.raises(StorageError, match="you have 1 saved runs.*saved_runs"):
        one_run.save("second", fast_result)
    one_run.save("first", fast_result, replace=True)  # a replacement adds no run
    size = sum(f.stat().st_size for f in (tmp_path / "store" / ALICE / "first").iterdir())
    bob = store(tmp_path, BOB, Quota(100, size + size // 2, 1000, 1000 * MB))
    bob.save("one", fast_result)
    with pytest.raises(StorageError, match="saved_mb"):
        bob.save("two", fast_result)
    with pytest.raises(StorageError, match="full.*saved_runs_total"):  # Alice's run and Bob's: 2
        store(tmp_path, BOB, Quota(100, 100 * MB, 2, 1000 * MB)).save("two", fast_result)
    with pytest.raises(StorageError, match="full"):
        store(tmp_path, BOB, Quota(100, 100 * MB, 1000, 2 * size + 10)).save("two", fast_result)
    assert [p.name for p in (tmp_path / "store" / BOB).iterdir()] == ["one"]  # refused saves leave nothing
    assert [run.name for run in store(tmp_path, ALICE).list()] == ["first"]


def test_the_quota_follows_gmg_caps(monkeypatch):
    monkeypatch.delenv(caps.ENV_VAR, raising=False)
    built_in = Quota.from_caps()
    assert (built_in.runs, built_in.bytes) == (caps.COUNTS["saved_runs"][1], caps.COUNTS["saved_mb"][1] * MB)
    monkeypatch.setenv(caps.ENV_VAR, "saved_runs=5,saved_mb=2,saved_runs_total=50,saved_mb_total=20")
    assert Quota.from_caps() == Quota(5, 2 * MB, 50, 20 * MB)
    monkeypatch.setenv(caps.ENV_VAR, f"saved_runs={caps.COUNTS['saved_runs'][1] + 1}")
    with pytest.raises(caps.CapsError, match="saved_runs"):
        Quota.from_caps()


# ---------------------------------------------------------------------- no silent overwrite
def test_a_save_under_a_used_name_asks_before_replacing(fast_result, tmp_path):
    runs = store(tmp_path)
    runs.save("run", fast_result)
    before = (tmp_path / "store" / ALICE / "run" / "run.json").read_text()
    with pytest.raises(RunExists, match="already named"):
        runs.save("run", fast_result)
    assert (tmp_path / "store" / ALICE / "run" / "run.json").read_text() == before
    runs.save("run", fast_result, replace=True)
    assert [run.name for run in runs.list()] == ["run"]
    assert sorted(p.name for p in (tmp_path / "store" / ALICE).iterdir()) == ["run"]  # no leftovers


def test_a_failed_save_leaves_no_folder(fast_result, tmp_path, monkeypatch):
    import gmg.storage

    def full_disk(result, folder):
        (folder / "run.json").write_text("{")  # half written
        raise OSError(28, "No space left on device", str(folder / "agent.npz"))

    monkeypatch.setattr(gmg.storage, "save_run", full_disk)
    with pytest.raises(StorageError, match="No space left on device") as failure:
        store(tmp_path).save("run", fast_result)
    assert str(tmp_path) not in str(failure.value)  # no server path in the message
    assert list((tmp_path / "store" / ALICE).iterdir()) == []


# ------------------------------------------------------------------------- a hostile store
def test_symbolic_links_are_listed_refused_and_never_followed(fast_result, tmp_path):
    runs = store(tmp_path)
    runs.save("real", fast_result)
    outside = tmp_path / "outside"
    save_run(fast_result, outside)
    mine = tmp_path / "store" / ALICE
    os.symlink(outside, mine / "linked")
    listed = {run.name: run for run in runs.list()}
    assert listed["linked"].refused and "symbolic link" in listed["linked"].problem
    for act in (lambda: reopen_run(runs.key("linked")), lambda: runs.delete("linked"),
                lambda: runs.save("linked", fast_result, replace=True)):
        with pytest.raises(StorageError, match="symbolic link"):
            act()
    assert sorted(p.name for p in outside.iterdir()) == ["agent.npz", "run.json"]  # untouched
    # a file inside a run that is a link: not read; a replacing save does not write through it
    (mine / "real" / "run.json").unlink()
    os.symlink(outside / "run.json", mine / "real" / "run.json")
    assert "symbolic link" in {run.name: run for run in runs.list()}["real"].problem
    with pytest.raises(StorageError, match="symbolic link"):
        reopen_run(runs.key("real"))
    target = (outside / "run.json").read_text()
    runs.save("real", fast_result, replace=True)
    assert (outside / "run.json").read_text() == target and not (mine / "real" / "run.json").is_symlink()
    # the owner's folder itself a link: refused
    os.symlink(mine, tmp_path / "store" / BOB)
    with pytest.raises(StorageError, match="symbolic link"):
        store(tmp_path, BOB).list()


def test_unreadable_runs_are_listed_with_their_message(fast_result, tmp_path):
    runs = store(tmp_path)
    runs.save("good", fast_result)
    mine = tmp_path / "store" / ALICE
    (mine / "junk").mkdir()
    runs.save("garbled", fast_result)
    (mine / "garbled" / "run.json").write_bytes(b"\xff\xfe garbage")
    (mine / ("bad name" + "!" * 100)).mkdir()  # not made by gmg: listed, its name cut
    listed = runs.list()
    assert listed[0].name == "good" and not listed[0].problem  # the readable ones first
    problems = {run.name: run.problem for run in listed[1:]}
    assert "missing" in problems["junk"] and "not valid JSON" in problems["garbled"]
    foreign = next(run for run in listed if run.name.startswith("bad name"))
    assert foreign.refused and len(foreign.name) <= 43
    runs.delete("junk")  # an unreadable run can still be deleted
    assert "junk" not in {run.name for run in runs.list()}


def test_delete_reports_a_failure_instead_of_raising_it(fast_result, tmp_path, monkeypatch):
    import shutil

    runs = store(tmp_path)
    runs.save("run", fast_result)

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(shutil, "rmtree", refused)
    with pytest.raises(StorageError, match="could not be deleted \\(Permission denied\\)") as failure:
        runs.delete("run")
    assert str(tmp_path) not in str(failure.value)


def test_hostile_file_contents_are_quoted_in_at_most_40_characters(saved):
    edit_json(saved, lambda m: m.update(version="v" * 1000))
    with pytest.raises(StorageError) as failure:
        load_run(saved)
    assert "v" * 41 not in str(failure.value)
    edit_json(saved, lambda m: m.update(version=1, env="e" * 1000))
    with pytest.raises(StorageError) as failure:
        load_run(saved)
    assert "e" * 41 not in str(failure.value)
    np.savez(saved / "agent.npz", **{"w" * 1000: np.zeros(3)})
    edit_json(saved, lambda m: m.update(env="monster"))
    with pytest.raises(StorageError) as failure:
        load_run(saved)
    assert "w" * 41 not in str(failure.value)
