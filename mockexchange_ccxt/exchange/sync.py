"""``MockExchange``: the drop-in for ``ccxt.binance()`` and friends, synchronous."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ccxt.base.exchange import Exchange

from ..routes import ROUTES_BY_NAME
from .base import MockExchangeBase, install_methods
from .unified import Steps


class MockExchange(MockExchangeBase, Exchange):  # type: ignore[misc]
    """A ccxt exchange whose venue is mockexchange_ccxt (in process by default, or ``options['serverUrl']``)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or {}
        super().__init__(config)
        self._choose_transport(config)

    def run_steps(self, steps: Steps) -> Any:
        """Drive a unified-method generator: serve each call it yields, return what it returns."""
        answer = None
        while True:
            try:
                call = steps.send(answer)
            except StopIteration as done:
                return done.value
            if self.in_process is not None:
                answer = self.in_process.perform(call)
            else:
                answer = self.checked_answer(
                    self.fetch2(call.route, "mock", ROUTES_BY_NAME[call.route].method, {"call": call})
                )


def _sync(generator: Callable[..., Steps]) -> Callable[..., Any]:
    def method(self: MockExchange, *args: Any, **kwargs: Any) -> Any:
        return self.run_steps(generator(self, *args, **kwargs))

    return method


install_methods(MockExchange, _sync)
