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
    expect(page.get_by_test_id("stSidebar").get_by_text("Preset: failure vs cure")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e_explore.png"))


def test_preset_link_trains_both_agents_side_by_side(app_url, page):
    from playwright.sync_api import expect

    page.goto(f"{app_url}/compare?{FAST}")
    expect(page.locator(".updatemenu-button", has_text="Play")).to_be_visible(timeout=90_000)
    wait_until_idle(page)
    maps = page.locator(".stPlotlyChart").filter(has=page.locator(".updatemenu-button"))
    # each title twice: over its map and over its goal posterior beside the maps
    expect(maps.get_by_text("Trained on 25-step episodes")).to_have_count(2)
    expect(maps.get_by_text("Trained on 200-step episodes")).to_have_count(2)
    expect(maps.get_by_text("Trained on 25-step episodes").first).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0
    page.get_by_test_id("stSidebar").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Goal misgeneralization explorer")).to_be_visible()


def assert_clean(page) -> None:
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_test_id("stAlertContentError").count() == 0


# cold deep links to every other page, with reduced settings; each trains (or loads) and draws
DEEP_LINKS = {
    "tree": ("tree?tree_train_steps=6000&tree_probe_every=2000", "Population and harvest"),
    "expressions": ("expressions?expressions_train_dialogues=150&expressions_epochs=6&expressions_eval_dialogues=30",
                    "Sample dialogues"),
    "diagnose": (f"diagnose?agent=random&{FAST}", "Diagnosis: capability failure"),
    "keys": (f"explore?env=keys&{FAST}", "What did the agent collect?"),
    "coin_preset": (f"compare?env=coin&agent=explore_q&{FAST}", "The coin: at the end, or moved"),
    "maze_probe": ("maze_probe?probe_env=maze&probe_seed=1", "If the cheese lay here"),
}


@pytest.mark.parametrize("name", list(DEEP_LINKS))
def test_cold_deep_link_to_every_page(app_url, page, name):
    from playwright.sync_api import expect

    link, text = DEEP_LINKS[name]
    page.goto(f"{app_url}/{link}")
    expect(page.get_by_text(text).first).to_be_visible(timeout=120_000)
    wait_until_idle(page, timeout=120_000)
    assert_clean(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e_{name}.png"), full_page=True)


def test_switching_environment_and_reopening_the_link_gives_the_same_view(app_url, page):
    from playwright.sync_api import expect

    page.goto(f"{app_url}/explore?{FAST}")
    expect(page.locator(".updatemenu-button", has_text="Play")).to_be_visible(timeout=60_000)
    wait_until_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="follow").click()
    expect(page).to_have_url(re.compile(r"env=follow"), timeout=10_000)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("partner (its last tile: proxy goal)").first).to_be_visible(timeout=60_000)
    wait_until_idle(page)
    assert_clean(page)
    shared = page.url
    other = page.context.browser.new_page()  # a second visitor opens the shared link: the same settings, cached
    other.goto(shared)
    expect(other.locator(".updatemenu-button", has_text="Play")).to_be_visible(timeout=60_000)
    wait_until_idle(other)
    expect(other.get_by_text("partner (its last tile: proxy goal)").first).to_be_visible()  # the follow world
    assert other.get_by_test_id("stProgress").count() == 0  # replayed from the cache, not retrained
    assert_clean(other)


def test_a_link_streamlit_drops_for_its_size_says_so_on_the_page(app_url, page):
    """Streamlit ignores a query string of more than 1000 parameters whole, and the server cannot see it."""
    from playwright.sync_api import expect

    from gmg import ui

    notice = page.get_by_text("Streamlit ignored all of them")
    page.goto(f"{app_url}/seeds?seed=3")  # an ordinary link: no notice
    wait_until_idle(page)
    expect(page.get_by_test_id("stSidebar").get_by_label("Seed", exact=True)).to_have_value("3")
    expect(notice).to_be_hidden()
    # the seeds page trains on a click only: the defaults it falls back to cost nothing here
    page.goto(f"{app_url}/seeds?seed=3&" + "&".join(f"p{i}=1" for i in range(ui.LINK_MAX_FIELDS)))
    wait_until_idle(page)
    expect(notice).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("stSidebar").get_by_label("Seed", exact=True)).to_have_value("0")  # the link was dropped


def test_the_key_to_saved_runs_stays_in_the_saved_runs_pages_link(app_url, page):
    """Only the Saved runs page's link carries the visitor's key (ui.run_owner): moving on drops it from the
    link, so another page's link shared does not share the runs; coming back in the session restores it."""
    page.goto(f"{app_url}/runs")
    wait_until_idle(page)
    page.wait_for_url(re.compile(r"/runs\?owner=[A-Za-z0-9_-]{24}$"))
    own = page.url
    page.get_by_test_id("stSidebar").get_by_text("Seed variance").click()  # trains on a click only
    wait_until_idle(page)
    page.wait_for_url(re.compile(r"/seeds$"))
    page.get_by_test_id("stSidebar").get_by_text("Saved runs").click()
    wait_until_idle(page)
    page.wait_for_url(own)
