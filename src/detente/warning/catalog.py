"""Every model by name: the ViEWS benchmarks first, then detente's own (an ensemble after
its members, so a backtest reuses their draws)."""

from __future__ import annotations

from detente.warning.boost import Boost
from detente.warning.ensemble import Ensemble
from detente.warning.models import BENCHMARKS, Model, Recency
from detente.warning.regime import Regime

__all__ = ["DEFAULT", "MODELS"]

MODELS: dict[str, Model] = {
    **BENCHMARKS,
    "recency": Recency(),
    "regime": Regime(),
    "boost": Boost(),
    "ensemble": Ensemble(),
}
DEFAULT = "ensemble"
