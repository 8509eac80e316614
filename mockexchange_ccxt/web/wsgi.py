"""``app`` for WSGI servers, configured from the environment, with the tick loop running beside it.

``granian --interface wsgi mockexchange_ccxt.web.wsgi:app`` (or gunicorn) serves it; with several workers,
each runs its own tick loop, which is safe because settlement is idempotent.
"""

from __future__ import annotations

from ..engine import Engine
from ..serve import exit_with_serve
from .app import create_app

exit_with_serve()  # a worker of ``mockexchange serve`` ends with it
engine = Engine.from_env()
engine.start_tick_loop()
app = create_app(engine)
