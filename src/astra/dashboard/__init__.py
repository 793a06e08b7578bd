"""The Streamlit dashboard: ``astra dashboard`` (or ``make dashboard``) serves ``app.py``."""

from pathlib import Path

APP = Path(__file__).with_name("app.py")
MAX_UPLOAD_MB = 20  # the server's --server.maxUploadSize; pages also refuse larger files themselves

__all__ = ["APP", "MAX_UPLOAD_MB"]
