"""Read benchmark records and summarise repeated runs (no framework, JSON and NumPy only).

The benchmarks in ``benchmarks/`` append one JSON object per run to a ``.jsonl``
file in ``benchmarks/results/``; notebook 12 reads them back with
`read_records` and reports each setting as mean and spread over its seeds with
`summarize`, so that no effect rests on a single run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["MAX_RECORD_BYTES", "mean_and_spread", "read_records", "summarize"]

#: A results file larger than this is refused rather than read (they hold a few kB).
MAX_RECORD_BYTES = 16 * 2**20


def read_records(path):
    """The JSON objects of a JSON-lines file, one per non-empty line.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of dict

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is larger than `MAX_RECORD_BYTES`, or a line is not a JSON
        object (the message gives the line number).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "runs.jsonl")
    ...     _ = open(path, "w").write('{"accuracy": 0.5}\\n\\n{"accuracy": 0.7}\\n')
    ...     [record["accuracy"] for record in read_records(path)]
    [0.5, 0.7]
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_RECORD_BYTES:
        raise ValueError(
            f"{path} must be a results file of at most {MAX_RECORD_BYTES:,} bytes. "
            f"Received {size:,} bytes."
        )
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, line {number}: expected one JSON object. {error}.") from None
        if not isinstance(record, dict):
            raise ValueError(
                f"{path}, line {number}: expected a JSON object. "
                f"Received {type(record).__name__}."
            )
        records.append(record)
    return records


def mean_and_spread(values):
    """The mean of `values` and their sample standard deviation (``ddof=1``).

    With two runs the standard deviation is their difference divided by
    sqrt(2); with one run it is NaN (a single run says nothing about spread).

    Examples
    --------
    >>> mean_and_spread([0.80, 0.82])
    (0.81, 0.01414)
    >>> mean_and_spread([0.5])
    (0.5, nan)
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(
            f"`values` must be a non-empty 1-D list of finite numbers. Received {values!r}."
        )
    spread = float(values.std(ddof=1)) if values.size > 1 else math.nan
    return round(float(values.mean()), 5), round(spread, 5)


def summarize(records, value="accuracy", by="setting"):
    """Group `records` by their `by` field and summarise their `value` field.

    Records where `value` is None (a run that diverged, say) are counted in
    ``runs`` but left out of the mean.

    Returns
    -------
    dict
        ``{group: {"mean": float, "std": float, "values": list, "runs": int}}``,
        in the order the groups first appear; ``mean`` and ``std`` are NaN for
        a group whose every value is None.

    Examples
    --------
    >>> runs = [{"setting": "a", "accuracy": 0.8}, {"setting": "b", "accuracy": None},
    ...         {"setting": "a", "accuracy": 0.9}]
    >>> summary = summarize(runs)
    >>> round(summary["a"]["mean"], 2), summary["a"]["runs"], summary["b"]["values"]
    (0.85, 2, [])
    """
    groups = {}
    for number, record in enumerate(records):
        if not isinstance(record, dict) or by not in record:
            raise ValueError(
                f"Every record must be a dict with a {by!r} field. Record {number} is {record!r}."
            )
        group = groups.setdefault(record[by], {"values": [], "runs": 0})
        group["runs"] += 1
        if record.get(value) is not None:
            group["values"].append(float(record[value]))
    for group in groups.values():
        if group["values"]:
            group["mean"], group["std"] = mean_and_spread(group["values"])
        else:
            group["mean"] = group["std"] = math.nan
    return groups
