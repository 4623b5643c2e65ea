"""``python: package.module:function``: the escape hatch for what SQL cannot say.

The function takes one value (the column's value after its SQL transforms,
as a portable value: see :mod:`ferry.connectors.base`) and returns the value
to write. It runs in ferry's process, on the copy's row path (clearly slower
than SQL pushed into the source), and again on the source side of
verification, whose checksums for such a table are then computed in Python
(see :mod:`ferry.engines.functions`). Modules are imported from the Python
path and the current directory. A function that raises makes the row a
reject with the exception as its reason. With ``python:``, ``type:`` is the
function's result type (the target column's); the SQL part does not cast
to it.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Callable

from ferry.catalog.model import DataType
from ferry.errors import PlanError

_MARK = "/* ferry:python:{} */ ({})"


@dataclass
class PythonColumn:
    """Target column ``column`` (``position`` in the target columns and in the
    read expressions) is ``fn`` (imported from ``path``) of its SQL value;
    ``type`` is the result's type; ``marker`` is its read expression, which
    tells it apart in any select."""

    column: str
    position: int
    path: str
    fn: Callable
    type: DataType
    marker: str


def load_function(path: str, where: str) -> Callable:
    """The callable named ``package.module:function``.

    Raises:
        PlanError: a malformed path, an import error, or not a callable.
    """
    module_name, _, name = path.partition(":")
    if not module_name or not name:
        raise PlanError("bad python", [f"{where}.python: write package.module:function, not {path!r}"])
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        fn = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise PlanError("bad python", [f"{where}.python: cannot import {path}: {exc}"]) from None
    if not callable(fn):
        raise PlanError("bad python", [f"{where}.python: {path} is not a function"])
    return fn


def python_column(column: str, position: int, path: str, expr: str, dtype: DataType, where: str) -> PythonColumn:
    """The :class:`PythonColumn` of a column whose SQL expression is ``expr``
    and whose function returns values of ``dtype``."""
    return PythonColumn(column, position, path, load_function(path, where), dtype, _MARK.format(position, expr))
