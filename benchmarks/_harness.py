"""What every benchmark script shares: its command line, timing and table.

    from _harness import Table, parser, timed

``parser(__doc__, mnist=True)`` gives the ``--mnist-dir`` option (default
``$SKAE_MNIST_DIR``); ``timed(fn, ...)`` returns ``(seconds, result)`` of one
call; a :class:`Table` prints its header, then each row as soon as it is
measured (long benchmarks show progress), columns aligned.
"""

import argparse
import os
import time

from skae._report import rate
from skae.datasets import MNIST_ENV

__all__ = ["Table", "parser", "rate", "timed"]


def parser(doc, *, mnist=False):
    """An argument parser described by the first line of ``doc``."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    if mnist:
        p.add_argument("--mnist-dir", default=os.environ.get(MNIST_ENV),
                       help=f"directory of the MNIST IDX .gz files (or ${MNIST_ENV})")
    return p


def timed(fn, *args, **kwargs):
    """``(wall seconds, fn(*args, **kwargs))``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


class Table:
    """A plain-text table printed row by row.

    Parameters
    ----------
    columns : list of (header, width, format)
        A row's value is formatted with ``format`` (``"rate"``: three
        significant digits, for throughputs that vary by more between runs);
        text columns (format ``""``) are left-aligned, numbers right-aligned.
    """

    def __init__(self, columns):
        self.columns = columns
        self._print(header for header, _, _ in columns)

    def _print(self, cells):
        print("".join(f"{cell:<{width}}" if not spec else f"{cell:>{width}}"
                      for cell, (_, width, spec) in zip(cells, self.columns, strict=True)),
              flush=True)

    def row(self, *values):
        """Print one row of ``values`` (None leaves a cell empty)."""
        self._print("" if value is None else rate(value) if spec == "rate"
                    else format(value, spec)
                    for value, (_, _, spec) in zip(values, self.columns, strict=True))
