"""The model's shape (docs/model.md): 5-minute steps, an encoder window of up to a day, an
8-hour horizon, six targets with P10/P50/P90. A saved model must match these to be loaded."""
from feeds.schema import SLOTS_PER_DAY

FORMAT = "argus-tft"
FORMAT_VERSION = 2  # 2: some targets centred on the last value (1: all on the window mean)
QUANTILES = (0.1, 0.5, 0.9)
HORIZON = 96  # 8 hours of 5-minute steps
MAX_ENCODER = SLOTS_PER_DAY  # the longest history the network reads
MIN_HISTORY = 12  # an hour: fewer points get no forecast
# Targets whose per-window normalisation is centred on the last value (the rest: on the mean).
CENTRED_ON_LAST = ("cpu_pct", "mem_used_pct", "swap_used_pct", "load_average")
# Reals pytorch-forecasting adds to the inputs itself.
SPECIAL_REALS = ("encoder_length", "relative_time_idx")


class ModelLoadError(Exception):
    """A model directory is missing, corrupt or was written by an incompatible version."""
