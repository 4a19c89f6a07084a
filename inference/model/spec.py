"""The model's shape (docs/model.md): 5-minute steps, an encoder window of up to a day, an
8-hour horizon, six targets with P10/P50/P90. A saved model must match these to be loaded."""
from feeds.schema import SLOTS_PER_DAY

FORMAT = "argus-tft"
# 3: the targets one day earlier are known inputs; 2: some targets centred on the last value
# (1: all on the window mean). Serving reads 2 and 3: it builds whichever inputs a network has.
FORMAT_VERSION = 3
READABLE_VERSIONS = (2, 3)
QUANTILES = (0.1, 0.5, 0.9)
HORIZON = 96  # 8 hours of 5-minute steps
MAX_ENCODER = SLOTS_PER_DAY  # the longest history the network reads
MIN_HISTORY = 12  # an hour: fewer points get no forecast
# Each target's value this many steps earlier (a day) is a known input for every encoder and
# decoder step, normalised like the target by its own window: the host's own yesterday, at its
# own hours. A server younger than that reads its first day as its yesterday (frames.py).
SEASONAL_LAG = SLOTS_PER_DAY
# Targets whose per-window normalisation is centred on the mean of their last k values (the
# rest: on the window's mean), so the network forecasts the change from now. Noisy CPU and load
# are centred on the last hour, not on one point whose 5-minute noise the whole forecast would
# inherit; memory and swap on the last value, whose level and climbs must hold. (Format 2
# models centred CPU and load on the last value; serving reads the lengths from the network.)
CENTRE_SLOTS = {"cpu_pct": 12, "mem_used_pct": 1, "swap_used_pct": 1, "load_average": 12}
# Reals pytorch-forecasting adds to the inputs itself.
SPECIAL_REALS = ("encoder_length", "relative_time_idx")


class ModelLoadError(Exception):
    """A model directory is missing, corrupt or was written by an incompatible version."""
