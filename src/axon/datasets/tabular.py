"""Tables from CSV files: a header row, numeric feature columns, an optional target column.

:func:`load_csv` reads a file such as the course's ``covid.train.csv`` into a :class:`CsvData`:
the feature matrix ``X``, the target ``y``, the feature names and the row ids. The ``id`` column is
kept aside as ``ids`` and is never a feature: an id numbers the rows, it says nothing about them, and a
model that sees it can learn the order the rows were written in. A file without the target
(``covid.test.csv``) loads with ``target=None`` and gives the same feature columns, with the ids a
prediction file needs.

Every problem in the file raises a ``ValueError`` naming the file, the line, the column and the value
(a non-numeric cell, a missing value, a row with too few cells), and an unknown column name lists the
columns there are.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from axon._config import resolve_dtype

_INTEGER = re.compile(r"^[+-]?\d+$")
# Cells that mean "no value" in CSV files written by spreadsheets, pandas and R (compared lower-cased).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


@dataclass
class CsvData:
    """A table loaded by :func:`load_csv`.

    Attributes
    ----------
    X : numpy.ndarray
        Features, shape ``(n_samples, n_features)``, in the requested float dtype.
    y : numpy.ndarray or None
        The target, shape ``(n_samples,)``: floats in ``X``'s dtype for a numeric column (a regression
        target, or class numbers the caller may cast with ``y.astype(np.int64)``, see
        :attr:`target_is_integral`), or int64 class indices into :attr:`classes` for a text column.
        None when loaded with ``target=None``.
    feature_names : list of str
        The name of each column of ``X``. Repeated header names get a suffix as pandas does:
        the second ``cli`` column is ``cli.1``, the third ``cli.2``.
    target_name : str or None
        The target column's name (as written in the header).
    ids : numpy.ndarray or None
        The id column's values, shape ``(n_samples,)``: int64 when they are all integers, else
        strings; None when the file has no id column.
    classes : list of str or None
        For a text target, the class names in sorted order (``y == k`` means ``classes[k]``).
    path : pathlib.Path
        The file read.
    target_written_as_integers : bool
        Whether every target cell is written as a whole number without a decimal point ("151",
        not "151.0"): how :attr:`task` tells a quantity from class numbers.

    Unpacking gives ``X, y, feature_names = load_csv(...)``.
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_name: str | None = None
    ids: np.ndarray | None = None
    classes: list[str] | None = None
    path: Path = field(default_factory=Path)
    target_written_as_integers: bool = False

    def __iter__(self) -> Iterator:
        return iter((self.X, self.y, self.feature_names))

    @property
    def n_samples(self) -> int:
        """Number of data rows."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return int(self.X.shape[1])

    @property
    def target_is_integral(self) -> bool:
        """True when every target value is a whole number (which alone does not make it class labels)."""
        if self.y is None:
            return False
        if self.classes is not None:
            return True
        return bool(np.all(np.mod(self.y, 1) == 0))

    @property
    def task(self) -> str | None:
        """"classification" or "regression", as :func:`infer_task` reads the target; None without one."""
        return None if self.y is None else infer_task(self)[0]


#: The most distinct whole numbers a target may hold and still be read as class labels.
MAX_INFERRED_CLASSES = 50


def infer_task(data: CsvData) -> tuple[str, str]:
    """Whether the target of ``data`` is a classification or a regression problem, and why.

    - a text column: classification (the texts are the class names);
    - numbers written with a decimal point, or not whole: regression;
    - whole numbers written as integers: classification when they take few values, at most
      :data:`MAX_INFERRED_CLASSES` and at most one per 5 rows (0/1 flags, 3 iris species, 10
      digits), else regression (a count or a score such as a disease progression of 25..346).

    Returns ``(task, reason)``: the reason is a sentence for the user. Raises ValueError when the
    file has no target.
    """
    if data.y is None:
        raise ValueError(f"{data.path}: no target column to infer a task from")
    name = data.target_name
    if data.classes is not None:
        return "classification", f"column {name!r} holds text labels ({len(data.classes)} classes)"
    if not data.target_written_as_integers or not data.target_is_integral:
        return "regression", f"column {name!r} holds decimal numbers"
    k, n = len(np.unique(data.y)), data.n_samples
    if k <= MAX_INFERRED_CLASSES and k <= max(2, n // 5):
        return "classification", f"column {name!r} holds {k} distinct whole numbers in {n} rows"
    return "regression", (f"column {name!r} holds {k} distinct whole numbers in {n} rows, too many to be "
                          f"classes")


def _unique_names(names: Sequence[str]) -> list[str]:
    """Suffix repeated names with .1, .2, ... as pandas does, so every column has its own name."""
    seen: dict[str, int] = {}
    taken = set(names)
    out = []
    for name in names:
        if name not in seen:
            seen[name] = 0
            out.append(name)
            continue
        k = seen[name]
        while True:
            k += 1
            candidate = f"{name}.{k}"
            if candidate not in taken:
                break
        seen[name] = k
        taken.add(candidate)
        out.append(candidate)
    return out


def _unknown_column(path: Path, what: str, name, names: Sequence[str]) -> ValueError:
    import difflib

    hint = difflib.get_close_matches(str(name), names, n=1)
    did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
    separators = [sep for sep in (";", "\t", "|") if len(names) == 1 and sep in names[0]]
    if separators:
        shown = repr(separators[0])
        did_you_mean = (f" (the header is one column holding {shown}: is {shown} the separator? pass "
                        f"delimiter={shown}, on the command line --delimiter {shown})")
    return ValueError(f"{path}: no column {name!r} for {what}{did_you_mean}; the columns are: {', '.join(names)}")


def _column_index(path: Path, what: str, name: str | int, raw: list[str], unique: list[str],
                  last: bool) -> int:
    """Index of a column given by header name, de-duplicated name or position."""
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if not -len(raw) <= name < len(raw):
            raise ValueError(f"{path}: {what} column index {name} is out of range; the file has {len(raw)} columns")
        return int(name) % len(raw)
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a column name (str) or index (int), got {type(name).__name__}")
    if name in raw:
        hits = [j for j, n in enumerate(raw) if n == name]
        return hits[-1] if last else hits[0]
    if name in unique:
        return unique.index(name)
    raise _unknown_column(path, what, name, unique)


def _bad_cell(path: Path, rows: list[list[str]], lines: list[int], cols: list[int], names: list[str],
              allow_text: bool = False) -> ValueError | None:
    """The error for the first missing or non-numeric cell (in file order) among ``cols``, or None."""
    for row, line in zip(rows, lines):
        for j in cols:
            cell = row[j]
            where = f"{path}, line {line}, column {names[j]!r}"
            if cell.strip().lower() in MISSING:
                return ValueError(f"{where}: missing value {cell!r}; fill it in or remove the row")
            if allow_text:
                continue
            try:
                value = float(cell)
            except ValueError:
                return ValueError(f"{where}: non-numeric value {cell!r}; feature columns must hold numbers "
                                  f"(fix the value, or leave the column out: drop=[{names[j]!r}] in "
                                  f"load_csv, --drop {names[j]} on the command line)")
            if not np.isfinite(value):
                return ValueError(f"{where}: non-finite value {cell!r}; replace it with a number")
    return None


def _as_floats(rows: list[list[str]], cols: list[int]) -> np.ndarray | None:
    """Columns ``cols`` as float64 (NumPy parses the strings in C), or None if some cell is not a number."""
    try:
        return np.array([[row[j] for j in cols] for row in rows], dtype=np.float64)
    except ValueError:
        return None


def _numeric(path: Path, rows, lines, cols, names, dtype, parsed: np.ndarray | None = None) -> np.ndarray:
    """Columns ``cols`` as ``dtype``, or the ValueError of the first missing or non-numeric cell.

    ``parsed``: the whole table already parsed to float64, when every cell of the file is a number.
    """
    values = parsed[:, cols] if parsed is not None else _as_floats(rows, cols)
    if values is None or not np.isfinite(values).all():
        error = _bad_cell(path, rows, lines, cols, names)
        if error is not None:
            raise error
    assert values is not None  # _bad_cell finds the cell that failed to parse
    return values.astype(dtype)


def _parse_ids(values: np.ndarray) -> np.ndarray:
    try:
        return values.astype(np.int64)
    except ValueError:
        return values.astype(str)


def load_csv(path: str | os.PathLike, target: str | int | None, *, features: Sequence[str] | None = None,
             drop: Sequence[str] = (), id_column: str | None = "id", delimiter: str = ",",
             dtype=None) -> CsvData:
    """Load a CSV file with a header row into features, target and ids.

    Parameters
    ----------
    path : str or PathLike
        The CSV file (UTF-8, a byte-order mark is allowed). Blank lines are skipped.
    target : str, int or None
        The target column: its header name, or its position (``-1`` = last). When several columns
        share the name (the COVID file has five ``tested_positive`` columns, one per day), the LAST of
        them is the target; name another one by its suffixed name (``tested_positive.2``). None: no
        target (a file to predict on), ``y`` is None.
    features : sequence of str, optional
        The feature columns to use, in this order (suffixed names for repeated headers). Default:
        every column except the target, the id column and ``drop``, in file order.
    drop : sequence of str
        Further columns to leave out of the features.
    id_column : str or None
        The column holding row ids (default ``"id"``): returned as ``ids``, never a feature. Ignored
        when the file has no such column.
    delimiter : str
        The field separator.
    dtype : str or dtype, optional
        float32 or float64 for ``X`` (and a numeric ``y``); default: axon's default dtype (float32).

    Returns
    -------
    CsvData
        ``X`` of shape ``(n, d)``, ``y`` of shape ``(n,)`` or None, ``feature_names`` (``d`` names),
        ``target_name``, ``ids``, ``classes`` (text targets), ``path``. Unpacks as
        ``X, y, feature_names``.

    Raises
    ------
    ValueError
        The file is empty or has no data rows; a row has a different number of cells from the header;
        a feature cell is missing, non-numeric or infinite; a target cell is missing; a column name is
        unknown (the message lists the columns) or the target is also a feature.
    FileNotFoundError
        No such file.

    Examples
    --------
    >>> data = ax.datasets.load_csv("covid.train.csv", target="tested_positive")    # doctest: +SKIP
    >>> data.X.shape, data.y.shape, data.feature_names[:2]                          # doctest: +SKIP
    ((2699, 116), (2699,), ['AL', 'AK'])
    >>> test = ax.datasets.load_csv("covid.test.csv", target=None)                  # doctest: +SKIP
    >>> test.feature_names == data.feature_names, test.ids[:3]                      # doctest: +SKIP
    (True, array([0, 1, 2]))
    """
    path = Path(path)
    dtype = resolve_dtype(dtype)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; load_csv needs a CSV file")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True)
        header = None
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                if header is None:
                    header = [name.strip() for name in row]
                    continue
                if len(row) != len(header):
                    raise ValueError(f"{path}, line {reader.line_num}: {len(row)} values, but the header has "
                                     f"{len(header)} columns; every row needs one value per column")
                rows.append(row)
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise ValueError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from exc
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); "
                             "is it a CSV file?") from exc
    if header is None:
        raise ValueError(f"{path}: the file is empty; expected a header row and data rows")
    if not rows:
        raise ValueError(f"{path}: the file has a header but no data rows")
    unique = _unique_names(header)

    t = None if target is None else _column_index(path, "target", target, header, unique, last=True)
    id_j = header.index(id_column) if id_column is not None and id_column in header else None
    if features is None:
        if isinstance(drop, str):
            drop = [drop]
        excluded = {t, id_j}
        for name in drop:  # a repeated header name drops every column of that name
            hits = [j for j, n in enumerate(header) if n == name]
            excluded.update(hits or [_column_index(path, "drop", name, header, unique, last=False)])
        cols = [j for j in range(len(header)) if j not in excluded]
    else:
        if isinstance(features, str):
            raise TypeError("features must be a list of column names, not one string; "
                            f"write features=[{features!r}]")
        cols = [_column_index(path, "features", name, unique, unique, last=False) for name in features]
        if t is not None and t in cols:
            raise ValueError(f"{path}: the target column {header[t]!r} is also listed in features; "
                             "a model must not see its own target: remove it from features")
    if not cols:
        raise ValueError(f"{path}: no feature columns are left (the columns are: {', '.join(unique)})")

    try:  # fast path: every cell of the file is a number (ids and target included)
        parsed = np.array(rows, dtype=np.float64)
    except ValueError:
        parsed = None
    X = _numeric(path, rows, lines, cols, unique, dtype, parsed)
    y = classes = None
    written_as_integers = False
    if t is not None:
        error = _bad_cell(path, rows, lines, [t], unique, allow_text=True)
        if error is not None:
            raise error
        texts = [row[t].strip() for row in rows]
        written_as_integers = all(_INTEGER.match(v) for v in texts)
        if parsed is not None or any(_is_number(v) for v in texts):
            y = _numeric(path, rows, lines, [t], unique, dtype, parsed)[:, 0]
        else:  # a text column holds class names
            classes_arr, y = np.unique(np.array(texts, dtype=str), return_inverse=True)
            classes, y = [str(c) for c in classes_arr], y.astype(np.int64)
    ids = _parse_ids(np.array([row[id_j].strip() for row in rows], dtype=str)) if id_j is not None else None
    return CsvData(X=X, y=y, feature_names=[unique[j] for j in cols],
                   target_name=None if t is None else header[t], ids=ids, classes=classes, path=path,
                   target_written_as_integers=written_as_integers)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
