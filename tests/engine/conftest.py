"""Fixtures of the engine tests (the shared server and the ``engine``/``btc`` fixtures are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine.clock import Clock

EngineFactory = Callable[..., Engine]


@pytest.fixture
def make_engine(engine: Engine, settings: Settings) -> Iterator[EngineFactory]:
    """Build more engines on the same (flushed) server, with Settings fields overridden; all closed at the end."""
    made: list[Engine] = []

    def factory(clock: Clock | None = None, **overrides: Any) -> Engine:
        extra = Engine(replace(settings, **overrides), clock=clock)
        made.append(extra)
        return extra

    yield factory
    for extra in made:
        extra.close()
