"""Every model by name: the ViEWS benchmarks first, then detente's own (an ensemble after
its members, so a backtest reuses their draws)."""

from __future__ import annotations

from detente.warning.boost import Boost, Ensemble
from detente.warning.models import BENCHMARKS, Model, Recency

__all__ = ["DEFAULT", "MODELS"]

MODELS: dict[str, Model] = {**BENCHMARKS, "recency": Recency(), "boost": Boost(), "ensemble": Ensemble()}
DEFAULT = "ensemble"
