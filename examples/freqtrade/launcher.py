"""Start freqtrade with ``mockexchange`` known to ccxt: ``python examples/freqtrade/launcher.py trade --config ...``.

freqtrade looks exchanges up by name in ccxt; ``mockexchange_ccxt.register()`` adds the mock there (to ``ccxt``,
``ccxt.async_support`` and ``ccxt.pro``), then freqtrade runs unmodified with the arguments given, e.g.
``trade --config examples/freqtrade/config.json``.
"""

import sys

import mockexchange_ccxt

mockexchange_ccxt.register()

from freqtrade.main import main  # noqa: E402  (after register(): freqtrade checks the name at start)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
