"""Environment registry: one module per environment; tests loop over ENVS."""

from .monster import MonsterEnv

ENVS = {cls.name: cls for cls in (MonsterEnv,)}
