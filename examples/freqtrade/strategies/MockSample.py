"""A small strategy for trying freqtrade against mockexchange: it buys after a 1m candle that closed lower than
the one before and sells after one that closed higher, or once a trade is 20 seconds old, so that trades open
and close within a minute on any replayed or mirrored feed (a demonstration, not a way to make money)."""

from datetime import datetime, timedelta

from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy
from pandas import DataFrame


class MockSample(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1m"
    minimal_roi = {"0": 100}  # noqa: RUF012 (freqtrade's own form)  exits come from signals and custom_exit
    stoploss = -0.5
    process_only_new_candles = False
    startup_candle_count = 3
    max_age = timedelta(seconds=20)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["change"] = dataframe["close"].diff()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["change"] < 0, "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["change"] > 0, "exit_long"] = 1
        return dataframe

    def custom_exit(
        self, pair: str, trade: Trade, current_time: datetime, current_rate: float, current_profit: float, **kwargs
    ) -> str | None:
        return "time_exit" if current_time - trade.open_date_utc >= self.max_age else None
