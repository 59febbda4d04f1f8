"""Agent registry: every agent implements gmg.agents.base.Agent."""

from .explore_q import ExploreQAgent
from .linear_q import LinearQAgent
from .neural import NeuralAgent
from .random_agent import RandomAgent

AGENTS = {cls.name: cls for cls in (LinearQAgent, ExploreQAgent, NeuralAgent, RandomAgent)}
# the general learner that reads only the raw observation, shown beside each world's linear agent
RAW_LEARNER = NeuralAgent.name
