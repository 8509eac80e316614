"""What the sync and async classes share beyond the unified methods: set-up, describe(), HTTP signing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from ccxt.base.errors import BadResponse

from ..routes import Call, http_request
from .describe import describe_mock
from .transport import (
    InProcess,
    raise_for_error_body,
    refuse_engine_options,
    settings_from_options,
    tick_loop_option,
)
from .unified import GENERATOR_METHODS, UnifiedMixin


class MockExchangeBase(UnifiedMixin):
    """Mixed in front of ``ccxt.Exchange`` or ``ccxt.async_support.Exchange``."""

    options: dict[str, Any]
    apiKey: str | None
    in_process: InProcess | None

    def describe(self) -> Any:
        return self.deep_extend(super().describe(), describe_mock(0.001))  # type: ignore[attr-defined,misc]

    def _choose_transport(self, config: dict[str, Any]) -> None:
        """In process unless ``options['serverUrl']`` names a server; in process there is no rate limit."""
        self.in_process = None
        if self.options.get("serverUrl"):
            refuse_engine_options(self.options)
            return
        self.in_process = InProcess(settings_from_options(self.options), tick_loop_option(self.options))
        settings = self.in_process.settings
        self.fees["trading"].update(maker=float(settings.maker_rate), taker=float(settings.taker_rate))  # type: ignore[attr-defined]
        if "enableRateLimit" not in config:
            self.enableRateLimit = False

    @property
    def engine(self) -> Any:
        """The in-process engine (None over HTTP): for back-tests that want exact Decimals."""
        return None if self.in_process is None else self.in_process.engine

    # -- ccxt's HTTP pipeline --------------------------------------------------------------------------------

    def sign(self, path: str, api: Any = "public", method: str = "GET", params: dict[str, Any] = {}) -> Any:  # noqa: B006
        call: Call = params["call"]
        return http_request(self.options["serverUrl"], self.apiKey, call)

    @staticmethod
    def checked_answer(answer: Any) -> Any:
        """An HTTP answer must be JSON; ccxt hands over the raw text when it is not (a cut-off body)."""
        if isinstance(answer, str):
            raise BadResponse(f"mockexchange answered with a body that is not JSON: {answer[:120]!r}")
        return answer

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> None:
        raise_for_error_body(response)


def install_methods(cls: type, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Give ``cls`` a public method per generator ``_g_<name>``, driven by ``make`` (sync or async)."""
    for name in GENERATOR_METHODS:
        generator = getattr(UnifiedMixin, f"_g_{name}")
        method = wraps(generator)(make(generator))
        method.__name__ = method.__qualname__ = name
        setattr(cls, name, method)
