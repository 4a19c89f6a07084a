"""Validation of a /feed/data batch: JSON in, packed numpy arrays out, or a list of errors.

Cost matters here (thousands of records per request), so the common case is checked in bulk:
one pass collects the numbers, numpy checks types and ranges for all of them at once, and
only a batch that fails takes the slow path that words an error per bad field."""
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from .schema import (
    INTEGER_METRICS,
    METRICS,
    OPEN_METRIC_MAXIMA,
    PERCENT_METRICS,
    REQUIRED_FIELDS,
    SLOT_SECONDS,
    STATUSES,
    UPTIME_CAP_DAYS,
)

MAX_ERRORS = 100  # an error list longer than this is cut, with a count of the rest
MAX_WARNINGS = 100  # so is a warning list: a body of unknown fields must not grow the response
MAX_SHOWN = 60  # characters of a client's value or field name quoted back in a message
MAX_SERVER_NAME = 128
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)

REQUIRED = frozenset(REQUIRED_FIELDS)
FIELD_RANK = {name: rank for rank, name in enumerate(REQUIRED_FIELDS)}
STATUS_CODES = {name: code for code, name in enumerate(STATUSES)}
# uptime_days has no upper bound: a larger value is capped (UPTIME_CAP_DAYS), not refused.
UPPER = np.array([100.0 if m in PERCENT_METRICS else OPEN_METRIC_MAXIMA.get(m, np.inf) for m in METRICS])
INTEGER_COLUMNS = np.array([m in INTEGER_METRICS for m in METRICS])
UPTIME_COLUMN = METRICS.index("uptime_days")
# No control characters and no lone surrogates (a JSON "\\ud800" escape decodes to one; it
# cannot be encoded as UTF-8, so it could be neither stored as a name nor sent back).
SERVER_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f\ud800-\udfff]{1,%d}$" % MAX_SERVER_NAME)
# Only a \uD800-\uDFFF escape in the body can produce a lone surrogate (raw UTF-8 cannot).
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class MalformedBody(Exception):
    """The body is not JSON at all (HTTP 400)."""


class BatchTooLarge(Exception):
    """More records than one request may carry (HTTP 413)."""


class ValidationFailed(Exception):
    """The batch breaks the contract (HTTP 422); `errors` names each record and field."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} validation errors")
        self.errors = capped(errors, MAX_ERRORS, "errors")

    @classmethod
    def sorted(cls, located):
        """From (record index, field rank, message) triples: messages in record, field order."""
        return cls([message for _, _, message in sorted(located, key=lambda e: e[:2])])


@dataclass
class Batch:
    """A validated batch, one row per record, in arrival order."""

    server_names: list
    slots: np.ndarray  # int64, 5-minute slots since the epoch
    statuses: np.ndarray  # uint8 index into STATUSES
    values: np.ndarray  # float32 [n, len(METRICS)]
    warnings: list = field(default_factory=list)

    def __len__(self):
        return len(self.server_names)


def capped(messages, limit, noun):
    """At most `limit` messages, then one line counting the rest."""
    if len(messages) <= limit:
        return messages
    return messages[:limit] + [f"... and {len(messages) - limit} more {noun}"]


def _json_constant(name):
    # json accepts NaN/Infinity, which the contract does not: keep them as floats so the
    # finiteness check reports them against the record and field they came in.
    return float(name.replace("Infinity", "inf"))


def parse_body(body: bytes):
    """Returns the `records` list of a request body."""
    try:
        document = json.loads(body, parse_constant=_json_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"Malformed JSON: {exc}") from None
    except RecursionError:  # arrays or objects nested hundreds deep; no record is like that
        raise MalformedBody("Malformed JSON: nested too deeply") from None
    if SURROGATE_ESCAPE.search(body):
        _reject_lone_surrogates(document)
    if not isinstance(document, dict):
        raise ValidationFailed(["body: expected a JSON object with a 'records' list"])
    if "records" not in document:
        raise ValidationFailed(["records: missing required field"])
    records = document["records"]
    if not isinstance(records, list):
        raise ValidationFailed([f"records: expected a list, got {_kind(records)}"])
    return records, sorted(k for k in document if k != "records")


def _reject_lone_surrogates(document):
    """Refuses a document holding a string with a lone surrogate anywhere a batch keeps or
    echoes strings (field names, values), naming where: such a string cannot be encoded as
    UTF-8, so storing or answering it would fail half way."""
    def bad(text):
        try:
            text.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True

    if not isinstance(document, dict):
        return
    errors = [f"{_show(k)}: field name is not valid Unicode (a lone surrogate escape)"
              for k in document if bad(k)]
    records = document.get("records")
    for i, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, dict):
            continue
        for key, value in record.items():
            if bad(key):
                errors.append(f"records[{i}]: field name {_show(key)} is not valid Unicode (a lone surrogate escape)")
            elif isinstance(value, str) and bad(value):
                errors.append(f"records[{i}].{_clip(key)}: {_show(value)} is not valid Unicode (a lone surrogate escape)")
    if errors:
        raise ValidationFailed(errors)


def validate_batch(records: list, extra_top_level=(), max_records=10_000, now=None,
                   max_future=timedelta(hours=1)) -> Batch:
    if len(records) > max_records:
        raise BatchTooLarge(
            f"Batch has {len(records)} records; the limit is {max_records} per request "
            f"(ARGUS_MAX_RECORDS). Split it into smaller batches."
        )
    now = now or datetime.now(timezone.utc)
    errors, unknown = [], {}
    for i, record in enumerate(records):
        if type(record) is not dict:
            errors.append((i, -1, f"records[{i}]: expected an object, got {_kind(record)}"))
        elif record.keys() != REQUIRED:
            errors.extend(_missing_fields(i, record))
            for name in record.keys() - REQUIRED:
                unknown[name] = unknown.get(name, 0) + 1
    # Field checks run on the complete records (all of them, in the usual case), so one
    # response lists every problem of the batch. `positions` maps back to request indices.
    positions = range(len(records))
    if errors:
        positions = [i for i, r in enumerate(records) if type(r) is dict and r.keys() >= REQUIRED]
        records = [records[i] for i in positions]

    names = [r["server_name"] for r in records]
    errors.extend(_check_server_names(positions, names))
    slots = _timestamps_to_slots(positions, records, names, now, now + max_future, errors)
    statuses = _status_codes(positions, records, names, errors)
    values = _metric_values(positions, records, names, errors)
    if errors:
        raise ValidationFailed.sorted(errors)

    warnings = [f"Ignored unknown top-level field '{_clip(k)}'" for k in extra_top_level]
    warnings += [f"Ignored unknown field '{_clip(k)}' (in {n} records)" for k, n in sorted(unknown.items())]
    return Batch(names, slots, statuses, values, capped(warnings, MAX_WARNINGS, "warnings"))


def _missing_fields(i, record):
    name = record.get("server_name")
    where = _where(i, name if isinstance(name, str) else None)
    return [(i, FIELD_RANK[f], f"{where}.{f}: missing required field")
            for f in REQUIRED_FIELDS if f not in record]


def _check_server_names(positions, names):
    errors = []
    for i, name in zip(positions, names):
        if type(name) is not str:
            errors.append((i, FIELD_RANK["server_name"], f"records[{i}].server_name: {_wrong_type(name, 'a string')}"))
        elif not SERVER_NAME_RE.match(name):
            errors.append((i, FIELD_RANK["server_name"], f"records[{i}].server_name: {_show(name)} must be "
                                 f"1-{MAX_SERVER_NAME} characters with no control characters"))
    return errors


def _timestamps_to_slots(positions, records, names, now, latest, errors):
    slot_of = {}  # batches usually share one timestamp: parse each distinct string once
    slots = np.empty(len(records), dtype=np.int64)
    for k, (i, record) in enumerate(zip(positions, records)):
        raw = record["timestamp"]
        slot = slot_of.get(raw) if type(raw) is str else None
        if slot is None:
            slot, problem = _parse_timestamp(raw, now, latest)
            if problem:
                errors.append((i, FIELD_RANK["timestamp"], f"{_where(i, names[k])}.timestamp: {problem}"))
                continue
            slot_of[raw] = slot
        slots[k] = slot
    return slots


def _parse_timestamp(raw, now, latest):
    if type(raw) is not str:
        return None, _wrong_type(raw, "an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None, f"{_show(raw)} is not an ISO 8601 timestamp"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # the contract's examples carry no zone: UTC
    if moment > latest:
        return None, (f"{_show(raw)} is more than {_duration(latest - now)} in the future "
                      f"(server time {now.isoformat(timespec='seconds')})")
    if moment < EARLIEST:
        return None, f"{_show(raw)} is before {EARLIEST.date().isoformat()}"
    return int(moment.timestamp()) // SLOT_SECONDS, None


def _status_codes(positions, records, names, errors):
    codes = np.empty(len(records), dtype=np.uint8)
    for k, (i, record) in enumerate(zip(positions, records)):
        code = STATUS_CODES.get(record["status"]) if type(record["status"]) is str else None
        if code is None:
            errors.append((i, FIELD_RANK["status"], f"{_where(i, names[k])}.status: invalid status value "
                                 f"{_show(record['status'])} - must be one of: {', '.join(STATUSES)}"))
        else:
            codes[k] = code
    return codes


def _metric_values(positions, records, names, errors):
    values = _as_array([r[m] for r in records for m in METRICS], len(records))
    with np.errstate(invalid="ignore"):
        bad = (~np.isfinite(values) | (values < 0) | (values > UPPER)
               | (INTEGER_COLUMNS & (values != np.floor(values))))
    for k, j in zip(*np.nonzero(bad)):  # only a failing batch words its errors
        i, metric = positions[k], METRICS[j]
        problem = _value_problem(records[k][metric], j)
        errors.append((i, FIELD_RANK[metric], f"{_where(i, names[k])}.{metric}: {problem}"))
    values[:, UPTIME_COLUMN] = np.minimum(values[:, UPTIME_COLUMN], UPTIME_CAP_DAYS)
    with np.errstate(over="ignore"):  # a failing batch's out-of-range values are never stored
        return values.astype(np.float32)


def _as_array(flat, n):
    """float64 [n, len(METRICS)]; whatever is not a JSON number within float range is NaN."""
    if set(map(type, flat)) <= {int, float}:
        try:
            return np.array(flat, dtype=np.float64).reshape(n, len(METRICS))
        except OverflowError:  # an integer beyond float range
            pass
    return np.array([v if type(v) in (int, float) and abs(v) < 1e308 else np.nan for v in flat],
                    dtype=np.float64).reshape(n, len(METRICS))


def _value_problem(value, column):
    metric = METRICS[column]
    if type(value) not in (int, float):
        return _wrong_type(value, "a number")
    if type(value) is int and abs(value) >= 1e308:
        return f"{_show(value)} is too large"
    if not math.isfinite(value):
        return f"{_show(value)} is not a finite number"
    if value < 0:
        return f"{_show(value)} is below the minimum 0"
    if value > UPPER[column]:
        return f"{_show(value)} is above the maximum {UPPER[column]:,.0f}"
    if metric in INTEGER_METRICS:
        return f"{_show(value)} is not an integer"
    return f"{_show(value)} is out of range"


def _where(i, server_name):
    return f"records[{i}] ({_clip(server_name)})" if isinstance(server_name, str) else f"records[{i}]"


def _show(value):
    if isinstance(value, float) and not math.isfinite(value):
        text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    else:
        text = json.dumps(value)
    return _clip(text)


def _clip(text):
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _wrong_type(value, expected):
    if value is None:
        return f"null is not allowed, expected {expected}"
    return f"{_show(value)} is {_kind(value)}, expected {expected}"


def _kind(value):
    return {type(None): "null", bool: "a boolean", str: "a string", list: "a list", dict: "an object",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _duration(delta):
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} hour{'s' if minutes // 60 != 1 else ''}" if minutes % 60 == 0 else f"{minutes} minutes"
