"""detente: an open platform for defense diplomacy."""

__version__ = "0.1.0"

__all__ = ["__version__"]
