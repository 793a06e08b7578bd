"""The Streamlit dashboard: ``astra dashboard`` (or ``make dashboard``) serves ``app.py``."""

from pathlib import Path

APP = Path(__file__).with_name("app.py")

__all__ = ["APP"]
