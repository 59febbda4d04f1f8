"""Speed, in one run on this machine: environment steps per second against Minigrid's, the time to
reproduce each environment's headline run with its defaults, issue 19's time goals, and (with --browser)
the time from pressing Train to the first animated frame.

    pip install minigrid                          # for the comparison only; gmg does not need it
    python benchmarks/bench_speed.py              # steps/s and one default run per environment (~2 min)
    python benchmarks/bench_speed.py --browser    # also the time to the first animated frame (Chromium)
    python benchmarks/bench_speed.py --quick      # shorter timings
    python benchmarks/bench_speed.py --peer ../jaxgmg   # also jaxgmg's rates beside gmg's (needs jax, flax, ...)

Steps per second: random actions, median of repetitions (time.perf_counter); a batch of B counts B
steps per call. Minigrid: `MiniGrid-Empty-8x8-v0`, one environment, reset when an episode ends.
Every figure is printed with the load average at the time, and the path gmg ran: its compiled kernels
(numba) or its numpy code (GMG_NUMPY=1, or numba not installed); see gmg/compiled.py.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import exit_with, machine_line

from gmg import compiled
from gmg.envs import ENVS
from gmg.envs.tree import TreeEnv
from gmg.experiment import run
from gmg.studies import STUDIES, StudyRun, run_study
from gmg.studies.tree import reference_policies
from gmg.train import Experiment, train

ROOT = Path(__file__).resolve().parents[1]
BATCHES = (1, 256, 1024)
TARGET_RATIO = 100


def minigrid_rate(steps: int, repeats: int) -> float | None:
    try:
        import gymnasium
        import minigrid  # noqa: F401 (registers the MiniGrid ids)
    except ImportError:
        return None
    env = gymnasium.make("MiniGrid-Empty-8x8-v0")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    rates = []
    for _ in range(repeats):
        actions = rng.integers(0, env.action_space.n, steps)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(int(action))
            if terminated or truncated:
                env.reset()
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


def gmg_rate(world, batch: int, steps: int, repeats: int, read=None) -> float:
    """Steps/s of `world.step` with random actions; `read(state)` (what an agent reads) after every step if given."""
    rng = np.random.default_rng(0)
    state = world.reset(rng, batch) if isinstance(world, TreeEnv) else world.reset(rng, batch, "test")
    rates = []
    for _ in range(repeats):
        actions = rng.integers(0, 5, (steps, batch))
        start = time.perf_counter()
        for a in actions:
            state = world.step(state, a)[0]
            if read is not None:
                read(state)
        rates.append(steps * batch / (time.perf_counter() - start))
    return statistics.median(rates)


# gmg world -> (jaxgmg environment module, its LevelGenerator's settings): the peer's closest world at gmg's default
# size (jaxgmg draws the outer wall inside its grid: a 12x12 open jaxgmg level is gmg's 10x10 grid; keys gets 11x11,
# the least that holds its inventory of 10 keys, against gmg's 7x7); coin has no peer
PEER_WORLDS = {
    "monster": ("monster_world", dict(height=12, width=12, maze="open", num_apples=5, num_shields=4, num_monsters=5)),
    "keys": ("keys_and_chests", dict(height=11, width=11, maze="open", num_keys_min=10, num_keys_max=10,
                                     num_chests_min=3, num_chests_max=3)),
    "follow": ("follow_me", dict(height=10, width=10, maze="open", num_beacons=5)),
    "maze": ("cheese_in_the_corner", dict(height=9, width=9, maze="tree")),
}
PEER_BATCHES = (32, 256, 1024)
PEER_TARGET = 1.5  # issue 19: every world at least this many times the peer's rate at each batch size
TREE_TARGET_SECONDS = 3.0  # issue 19: the Tree study's default run
TRAIN_TARGET_SECONDS = 2.0  # issue 19: a default linear agent, any world


def peer_rates(peer_path: str | None, steps: int, repeats: int) -> dict[str, list[float]] | str:
    """jaxgmg's steps/s per world and batch (its own speed test: a jitted lax.scan of `vstep` with random actions,
    Boolean observations, compile time not counted), or why it could not run."""
    if peer_path:
        sys.path.insert(0, str(Path(peer_path).resolve()))
    try:
        import jax
        from jaxgmg.environments import cheese_in_the_corner, follow_me, keys_and_chests, monster_world  # noqa: F401
        from jaxgmg.procgen import maze_generation
    except ImportError as exc:
        return f"peer not installed ({exc}): fetch jaxgmg's source, pip install jax flax chex einops jaxtyping, " \
               "and pass --peer PATH"
    modules = {"monster_world": monster_world, "keys_and_chests": keys_and_chests, "follow_me": follow_me,
               "cheese_in_the_corner": cheese_in_the_corner}
    rates = {}
    for world, (module_name, settings) in PEER_WORLDS.items():
        module, settings = modules[module_name], dict(settings)
        maze = maze_generation.get_generator_class_from_name(settings.pop("maze"))()
        env = module.Env(obs_level_of_detail=0)
        generator = module.LevelGenerator(maze_generator=maze, **settings)
        rates[world] = [_peer_rate(jax, env, generator, batch, steps, repeats) for batch in PEER_BATCHES]
    return rates


def _peer_rate(jax, env, generator, batch: int, steps: int, repeats: int) -> float:
    @jax.jit
    def trial(rng, levels):
        def step(carry, rng_step):
            _, states = carry
            rng_policy, rng_env = jax.random.split(rng_step)
            actions = jax.random.choice(rng_policy, env.num_actions, (batch,))
            obs, states, _, _, _ = env.vstep(rng_env, states, actions)
            return (obs, states), None
        return jax.lax.scan(step, env.vreset_to_level(levels), jax.random.split(rng, steps))[0]

    rng = jax.random.PRNGKey(0)
    levels = generator.vsample(rng, num_levels=batch)
    jax.block_until_ready(trial(rng, levels))  # compile: not counted
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(trial(rng, levels))
        times.append(time.perf_counter() - start)
    return steps * batch / statistics.median(times)


def against_peer(peer_path: str | None, quick: bool) -> None:
    steps, repeats = (128, 3) if quick else (128, 7)
    print()
    print(f"Against jaxgmg (Farrugia-Roberts et al.), steps/s with what an agent reads, {steps} steps per trial, "
          f"load average {os.getloadavg()[0]:.1f}.")
    print("  gmg: its per-step API, one `env.step` and one observation call (raw or features) per batched step, as "
          "the trainer and the evaluation call them (no multi-step path); jaxgmg: one jitted lax.scan of all the "
          "steps of a trial (its own speed test)")
    peer = peer_rates(peer_path, steps, repeats)
    if isinstance(peer, str):
        print(f"  {peer}")
    header = "".join(f"{f'B={b}':>30}" for b in PEER_BATCHES)
    print(f"  {'world':<9}each cell: gmg with the raw observation / with the hand-made features / jaxgmg, and the "
          f"ratio (the slower of gmg's two over jaxgmg's; * where it is below the goal of {PEER_TARGET}x)")
    print(f"  {'':<9}{header}")
    met, measured = 0, 0
    for name in ENVS:
        world = ENVS[name]()
        cells = []
        for i, batch in enumerate(PEER_BATCHES):
            raw = gmg_rate(world, batch, steps, repeats, read=world.raw_observation)
            features = gmg_rate(world, batch, steps, repeats, read=world.observe)
            theirs = peer[name][i] if isinstance(peer, dict) and name in peer else None
            if theirs is None:
                cells.append(f"{raw / 1e3:.0f}k/{features / 1e3:.0f}k no peer")
                continue
            ratio = min(raw, features) / theirs
            met, measured = met + (ratio >= PEER_TARGET), measured + 1
            cells.append(f"{raw / 1e3:.0f}k/{features / 1e3:.0f}k/{theirs / 1e3:.0f}k "
                         f"{ratio:.2f}x{'' if ratio >= PEER_TARGET else '*'}")
        print(f"  {name:<9}" + "".join(f"{cell:>30}" for cell in cells), flush=True)
    if measured:
        print(f"  goal (issue 19): at least {PEER_TARGET}x jaxgmg at every batch size; met in {met} of {measured} "
              f"cells (load average {os.getloadavg()[0]:.1f} at the end)")


def throughput(quick: bool) -> None:
    steps, repeats = (200, 2) if quick else (1000, 3)
    reference = minigrid_rate(steps * 5, repeats)
    if reference is None:
        print("Minigrid is not installed (pip install minigrid): no ratio.")
    else:
        print(f"Minigrid MiniGrid-Empty-8x8-v0, one environment: {reference:,.0f} steps/s")
    print(f"gmg steps/s (random actions, {steps} calls per repetition; B worlds per call):")
    print(f"  {'environment':<12}" + "".join(f"{f'B={b}':>14}" for b in BATCHES)
          + ("" if reference is None else f"{f'B={BATCHES[-1]} / Minigrid':>22}"))
    for name, world in [(name, cls()) for name, cls in ENVS.items()] + [("tree", TreeEnv())]:
        rates = [gmg_rate(world, b, max(steps // (1 + b // 256), 20), repeats) for b in BATCHES]
        ratio = "" if reference is None else f"{rates[-1] / reference:>21,.0f}x"
        print(f"  {name:<12}" + "".join(f"{r:>14,.0f}" for r in rates) + ratio, flush=True)
    if reference is not None:
        print(f"  target: batched at least {TARGET_RATIO}x Minigrid's single-environment rate")


def reproduce() -> None:
    print()
    print("Time to reproduce each environment's headline run with its defaults (one seed, train + evaluate):")
    for name in ENVS:
        start = time.perf_counter()
        result = run(Experiment.build(name, ENVS[name].card.agent, 0))
        print(f"  {name:<12} {time.perf_counter() - start:6.1f} s  (training {result.trained.seconds:.1f} s, "
              f"agent {ENVS[name].card.agent})", flush=True)
    for name in STUDIES:
        start = time.perf_counter()
        run_study(StudyRun.build(name, 0))
        print(f"  {name:<12} {time.perf_counter() - start:6.1f} s  (a study: its whole default run)", flush=True)


def time_goals(quick: bool) -> None:
    """Issue 19's time goals: the Tree study's default run, and each world's default agent trained with its
    defaults (medians of repetitions), with the general (neural) learner's training steps per second beside them."""
    repeats = 1 if quick else 3
    print()
    print(f"Issue 19's time goals ({'numba kernels' if compiled.ENABLED else 'numpy code'}; medians of {repeats}, "
          f"load average {os.getloadavg()[0]:.1f}):")
    run_study(StudyRun.build("tree", 0, {"train_steps": 1000}))  # compiles (or loads) the kernels: not counted
    seconds = []
    for seed in range(repeats):
        reference_policies.cache_clear()  # cached per process: each run pays them, as a fresh process would
        start = time.perf_counter()
        run_study(StudyRun.build("tree", seed))
        seconds.append(time.perf_counter() - start)
    tree = statistics.median(seconds)
    print(f"  Tree study, default run: {tree:.2f} s (goal: at most {TREE_TARGET_SECONDS:.0f} s"
          f"{'' if tree <= TREE_TARGET_SECONDS else ', not met'})")
    print(f"  {'world':<9}{'agent':<11}{'training':>10}   {'goal':<22}{'neural learner (raw observation)':>34}")
    for name in ENVS:
        agent = ENVS[name].card.agent
        train(Experiment.build(name, agent, 0, {"train_steps": 5000}))  # compiles (or loads) the kernels
        seconds = statistics.median(train(Experiment.build(name, agent, seed)).seconds for seed in range(repeats))
        neural = train(Experiment.build(name, "neural", 0, {"train_steps": 20_000}))
        verdict = f"<= {TRAIN_TARGET_SECONDS:.0f} s" + ("" if seconds <= TRAIN_TARGET_SECONDS else ", not met")
        print(f"  {name:<9}{agent:<11}{seconds:>8.2f} s   {verdict:<22}"
              f"{neural.steps_done / neural.seconds:>24,.0f} steps/s", flush=True)
    print("  (training: each world's default agent and settings, seeds 0.., compile time not counted; the neural "
          "learner trained 20,000 steps for its rate)")


def first_frame() -> None:
    """Start the app, open Explore cold (its first visit trains the defaults), time the first animated frame; then
    open Explore again at another seed on the now warm server (as pressing Train with new settings would) and time
    that run's first frame, beside its training time."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("GMG_CHROMIUM", "/usr/bin/chromium"),
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            deadline = time.monotonic() + 60
            while True:  # wait for the server
                try:
                    page.goto(f"http://127.0.0.1:{port}/explore?seed=101")
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            start = time.perf_counter()
            page.wait_for_selector(".updatemenu-button", timeout=180_000)
            print()
            print(f"From opening Explore (training starts on the first visit) to the first animated frame: "
                  f"{time.perf_counter() - start:.1f} s (Monster defaults, a seed no one trained before, a cold "
                  f"server; load average {os.getloadavg()[0]:.1f})")
            seed = 102
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/explore?seed={seed}")
            page.wait_for_selector(".updatemenu-button", timeout=180_000)
            seconds = time.perf_counter() - start
            training = train(Experiment.build("monster", "linear_q", seed)).seconds  # the same run, timed here
            print(f"The same on the warm server at seed {seed}: {seconds:.1f} s; that run's training alone takes "
                  f"{training:.1f} s here (goal: training + at most 1 s; load average {os.getloadavg()[0]:.1f})")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--browser", action="store_true", help="also time Train to the first animated frame")
    parser.add_argument("--peer", metavar="PATH", help="a checkout of jaxgmg's source (its dependencies installed)")
    parser.add_argument("--goals", action="store_true", help="only issue 19's figures: the peer table and the times")
    args = parser.parse_args(argv)
    print(machine_line("speed") + f", gmg path: {'numba kernels' if compiled.ENABLED else 'numpy code'}")
    print()
    if not args.goals:
        throughput(args.quick)
    against_peer(args.peer, args.quick)
    time_goals(args.quick)
    if not args.goals:
        reproduce()
    if args.browser:
        first_frame()
    return 0


if __name__ == "__main__":
    exit_with(main)
