"""The REST face: ``create_app(engine, settings)`` builds the Falcon WSGI app."""

from .app import create_app

__all__ = ["create_app"]
