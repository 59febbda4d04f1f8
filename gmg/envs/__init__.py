"""Environment registry: one module per environment; tests loop over ENVS."""

from .coin import CoinEnv
from .follow import FollowEnv
from .keys import KeysEnv
from .maze import MazeEnv
from .monster import MonsterEnv

ENVS = {cls.name: cls for cls in (MonsterEnv, KeysEnv, FollowEnv, CoinEnv, MazeEnv)}
