"""How history writes a stored value: the shortest decimal that reads back as the same float32
(what the windows and the history store keep), so 25.3 sent is 25.3 returned, and a CSV export
fed back to /feed/data stores exactly the same values. Counts and uptime are integers."""
import numpy as np

from feeds.schema import INTEGER_METRICS, METRICS

INTEGER_COLUMN = tuple(metric in INTEGER_METRICS for metric in METRICS)
CACHE_SIZE = 65_536  # distinct values remembered (metrics repeat a lot: percentages, counts)

_texts = {}


def float32_text(value: float) -> str:
    text = _texts.get(value)
    if text is None:
        if len(_texts) >= CACHE_SIZE:
            _texts.clear()
        text = _texts[value] = np.format_float_positional(np.float32(value), unique=True, trim="0")
    return text


def metric_texts(row) -> list:
    """One point's 14 metric values (floats, schema.METRICS order) as CSV fields."""
    return [str(int(value)) if integer else float32_text(value) for value, integer in zip(row, INTEGER_COLUMN)]


def json_column(values, integer: bool) -> list:
    """One metric's float32 values (NaN for a missing slot) as JSON numbers, None for missing."""
    if integer:
        return [None if v != v else int(v) for v in values.tolist()]
    return [None if v != v else float(float32_text(v)) for v in values.tolist()]
