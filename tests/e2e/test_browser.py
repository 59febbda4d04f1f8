"""Smoke tests in a real browser: cold deep links train, the animation plays, no error shows."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
FAST = "train_steps=20000&eval_episodes=20"


def wait_until_idle(page, timeout=60_000):
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def test_cold_deep_link_to_explore_trains_and_plays(app_url, page):
    from playwright.sync_api import expect

    page.goto(f"{app_url}/explore?{FAST}")
    play = page.locator(".updatemenu-button", has_text="Play")
    expect(play).to_be_visible(timeout=60_000)
    wait_until_idle(page)
    slider_value = page.locator(".slider-container .slider-label").first  # "step t = ..."
    expect(slider_value).to_have_text(re.compile(r"step t = 0"))
    play.click()
    expect(slider_value).not_to_have_text(re.compile(r"step t = 0$"), timeout=5_000)
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_test_id("stAlertContentError").count() == 0
    # the pages draw their own menu, so a cold deep link does not list the raw files of pages/
    expect(page.get_by_test_id("stSidebar").get_by_text("Shields vs apples preset")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e_explore.png"))


def test_preset_link_trains_both_agents_side_by_side(app_url, page):
    from playwright.sync_api import expect

    page.goto(f"{app_url}/compare?{FAST}")
    expect(page.locator(".updatemenu-button", has_text="Play")).to_be_visible(timeout=90_000)
    wait_until_idle(page)
    maps = page.locator(".stPlotlyChart").filter(has=page.locator(".updatemenu-button"))
    expect(maps.get_by_text("Trained on 25-step episodes")).to_be_visible()
    expect(maps.get_by_text("Trained on 200-step episodes")).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0
    page.get_by_test_id("stSidebar").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Goal misgeneralization explorer")).to_be_visible()
