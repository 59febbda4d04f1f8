"""Gymnasium adapter: every gmg world as a standard `gymnasium.Env` (optional dependency).

    import gymnasium, gmg.gym_adapter          # registers the ids below
    env = gymnasium.make("gmg/Monster-v0", split="test", render_mode="ansi")
    observation, info = env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())

Ids: `gmg/Monster-v0`, `gmg/Keys-v0`, `gmg/Follow-v0`, `gmg/Coin-v0`, `gmg/Maze-v0` (the episodic
environments, with `split` "train" or "test": episodes end or are truncated at that split's
length) and `gmg/Tree-v0` (the continual world: it never ends by itself, so episodes are
truncated after `max_steps`). Any environment parameter is a keyword (`size=8`); bad values raise
`gmg.params.ParamError` with the usual message. One environment per instance (batch of 1); for
speed, use gmg's batched environments directly.

Observations (`obs_type`): "features" (default), the dict of feature arrays the world's `observe`
gives its linear learners; or "grid" (episodic worlds), the raw observation as one image-like
float32 Box of shape (C + K, H, W) in [0, 1]: the world's one-hot channels (`raw_channels`) and
each carried scalar (`raw_scalars`) broadcast as a plane, for an outside RL library's CNN (e.g.
CleanRL's PPO). Actions are the five moves (up, down, left, right, stay). `render_mode` "ansi" gives the world's ASCII map,
"rgb_array" an image drawn from its sprites (worlds with a drawing API).
"""

from __future__ import annotations

import numpy as np

try:
    import gymnasium
    from gymnasium import spaces
except ImportError as exc:  # optional: everything else in gmg works without it
    raise ImportError("gmg.gym_adapter needs gymnasium: pip install gymnasium") from exc

from .envs import ENVS
from .envs.tree import TreeEnv
from .grid import N_ACTIONS
from .params import with_overrides

CELL_PX = 16
FLOOR_RGB = (244, 244, 240)
TREE_MAX_STEPS = 1000


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


class GmgEnv(gymnasium.Env):
    """One gmg world (ENVS or the Tree gridworld) behind the Gymnasium API."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}

    def __init__(self, env_name: str = "monster", split: str = "train", render_mode: str | None = None,
                 max_steps: int = TREE_MAX_STEPS, obs_type: str = "features", **params):
        worlds = {**ENVS, TreeEnv.name: TreeEnv}
        if env_name not in worlds:
            raise ValueError(f"unknown environment {env_name!r}; known: {', '.join(worlds)}")
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        if obs_type not in ("features", "grid"):
            raise ValueError(f"obs_type must be 'features' or 'grid', got {obs_type!r}")
        if obs_type == "grid" and env_name not in ENVS:
            raise ValueError(f"obs_type='grid' needs an episodic world ({', '.join(ENVS)}), not {env_name!r}")
        cls = worlds[env_name]
        self.obs_type = obs_type
        self.world = cls(with_overrides(cls.Config(), params))
        self.continual = cls is TreeEnv
        self.split, self.render_mode = split, render_mode
        self.max_steps = max_steps  # the Tree world's cut (an episodic world's own time limit applies)
        self.action_space = spaces.Discrete(N_ACTIONS)
        sample = self._observe(self._reset_world(np.random.default_rng(0)))
        if obs_type == "grid":
            self.observation_space = spaces.Box(0.0, 1.0, shape=sample.shape, dtype=np.float32)
        else:
            self.observation_space = spaces.Dict({
                name: spaces.Box(-np.inf, np.inf, shape=value.shape, dtype=np.float64) for name, value in sample.items()
            })
        self.state = None
        self.steps = 0

    def _reset_world(self, rng: np.random.Generator):
        return self.world.reset(rng, 1) if self.continual else self.world.reset(rng, 1, self.split)

    def _observe(self, state):
        if self.obs_type == "grid":
            raw = self.world.raw_observation(state)
            planes = np.broadcast_to(raw["scalars"][0][:, None, None], (raw["scalars"].shape[1],) + raw["grid"].shape[2:])
            return np.concatenate([raw["grid"][0], planes]).astype(np.float32)
        return {name: np.asarray(value[0], dtype=np.float64) for name, value in self.world.observe(state).items()}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state = self._reset_world(self.np_random)
        self.steps = 0
        return self._observe(self.state), {}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an integer in [0, {N_ACTIONS}), got {action!r}")
        if self.continual:  # the Tree world never ends by itself: the adapter's own step limit cuts it
            self.state, reward, events = self.world.step(self.state, np.array([int(action)]))
            self.steps += 1
            terminated, truncated = False, self.steps >= self.max_steps
        else:
            self.state, reward, events, ended, cut = self.world.step(self.state, np.array([int(action)]))
            terminated, truncated = bool(ended[0]), bool(cut[0])
        info = {"events": {name: int(np.asarray(value)[0]) for name, value in events.items()}}
        return self._observe(self.state), float(reward[0]), terminated, truncated, info

    def render(self):
        if self.state is None or self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return self.world.to_ascii(self.state) + "\n"
        return self._image()

    def _image(self) -> np.ndarray:
        """The map as an (H, W, 3) uint8 image: floor, background cells, then sprites as squares."""
        size = self.world.config.size
        image = np.empty((size * CELL_PX, size * CELL_PX, 3), dtype=np.uint8)
        image[:] = FLOOR_RGB

        def paint(r: int, c: int, rgb, margin: int) -> None:
            image[r * CELL_PX + margin:(r + 1) * CELL_PX - margin, c * CELL_PX + margin:(c + 1) * CELL_PX - margin] = rgb

        for colour, cells in self.world.background(self.state).items():
            for r, c in np.asarray(cells).reshape(-1, 2):
                paint(r, c, _rgb(colour), 0)
        sprites = self.world.sprites(self.state)
        for kind, (_, colour, _) in self.world.sprite_styles.items():
            positions, shown = sprites[kind]
            for (r, c), on in zip(positions[0], shown[0]):
                if on:
                    paint(int(r), int(c), _rgb(colour), 3)
        return image


ENV_IDS = {name: f"gmg/{name.capitalize()}-v0" for name in [*ENVS, TreeEnv.name]}


def register_all() -> None:
    """Register every id with Gymnasium (idempotent)."""
    for name, env_id in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point="gmg.gym_adapter:GmgEnv", kwargs={"env_name": name})


register_all()
