"""``AsyncMockExchange``: the same exchange for ``ccxt.async_support`` bots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ccxt.async_support.base.exchange import Exchange

from ..routes import ROUTES_BY_NAME
from .base import MockExchangeBase, install_methods
from .unified import Steps


class AsyncMockExchange(MockExchangeBase, Exchange):  # type: ignore[misc]
    """The async twin of ``MockExchange``: same methods, same answers, awaited.

    In process, engine calls are short Valkey round trips made directly (no thread hop), as a local Redis
    client would; over HTTP they go through ccxt's aiohttp session.
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or {}
        super().__init__(config)
        self._choose_transport(config)

    async def run_steps(self, steps: Steps) -> Any:
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
                    await self.fetch2(call.route, "mock", ROUTES_BY_NAME[call.route].method, {"call": call})
                )


def _async(generator: Callable[..., Steps]) -> Callable[..., Any]:
    async def method(self: AsyncMockExchange, *args: Any, **kwargs: Any) -> Any:
        return await self.run_steps(generator(self, *args, **kwargs))

    return method


install_methods(AsyncMockExchange, _async)
