"""Agent registry: every agent implements gmg.agents.base.Agent."""

from .linear_q import LinearQAgent
from .random_agent import RandomAgent

AGENTS = {cls.name: cls for cls in (LinearQAgent, RandomAgent)}
