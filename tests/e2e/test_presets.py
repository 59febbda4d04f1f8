"""The presets that ship with the app (gmg/bundled) open on a cold server without training.

Each world's preset link opens on a server of its own, at 1280x800, and the seconds to the first
animated frame (the animation's Play button drawn) are measured. With GMG_E2E_PRESET_SECONDS set
(3 is the target: issue 17), the test fails above it. It is not enforced by default: on a shared
machine the time is mostly the browser's and the load's (under a load of 5-9 on 2 cores, an empty
Streamlit page with one small Plotly chart took 5-9 s; benchmarks/bench_presets.py prints both).
"""

import os
import time

import pytest

from gmg.envs import ENVS

pytestmark = pytest.mark.e2e

WORLDS = [name for name, cls in ENVS.items() if cls.card.contrast is not None]
LIMIT = os.environ.get("GMG_E2E_PRESET_SECONDS")


@pytest.mark.parametrize("world", WORLDS)
def test_a_preset_opens_on_a_cold_server_without_training(cold_app_url, page, world):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1280, "height": 800})
    opened = time.perf_counter()
    page.goto(f"{cold_app_url}/compare?env={world}&agent={ENVS[world].card.agent}", wait_until="commit")
    page.locator(".updatemenu-button", has_text="Play").wait_for(timeout=120_000)
    seconds = time.perf_counter() - opened
    print(f"{world}: first animated frame {seconds:.1f} s after opening the link")
    expect(page.get_by_text("Shipped with the app")).to_be_visible()
    assert page.get_by_test_id("stProgress").count() == 0  # nothing trains
    assert page.get_by_test_id("stException").count() == 0
    if LIMIT is not None:
        assert seconds <= float(LIMIT), f"{world}: {seconds:.1f} s to the first animated frame"
