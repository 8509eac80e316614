"""WSGI entry point for any server: ``granian --interface wsgi server.wsgi:app`` (configured by env vars)."""

from mockexchange_ccxt.web.wsgi import app

__all__ = ["app"]
