"""A batch of things as a dataclass of arrays, the batch on each array's leading axis.

Every world's state, a batch of expressions and a learner's feature batch are such dataclasses; the
row operations they all need are written once here. Fields that are not arrays (a grid's `size`) are
shared by the whole batch and carried over unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np


class Batch:
    """Mixin for a dataclass whose array fields share their leading (batch) axis."""

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-row fields by name (the batch on each one's leading axis)."""
        return {f.name: value for f in dataclasses.fields(self)
                if isinstance(value := getattr(self, f.name), np.ndarray)}

    def copy(self):
        """A deep copy: no array shared with `self`. Built field by field rather than through the dataclass's
        `__init__` (`dataclasses.replace`), which took half of a small batch's step (issue 19)."""
        new = object.__new__(type(self))
        new.__dict__.update({name: value.copy() if isinstance(value, np.ndarray) else value
                             for name, value in self.__dict__.items()})
        return new

    def rows(self, index):
        """The rows `index` selects (a slice gives views; an index array, copies)."""
        return dataclasses.replace(self, **{name: value[index] for name, value in self.arrays().items()})

    def put_rows(self, index, other) -> None:
        """Overwrite the rows `index` in place with the rows of `other`."""
        for name, value in self.arrays().items():
            value[index] = getattr(other, name)

    @classmethod
    def concat(cls, batches: list):
        """One batch of all rows of `batches` (of the same class and shared fields), in order."""
        first = batches[0]
        return dataclasses.replace(first, **{name: np.concatenate([getattr(b, name) for b in batches])
                                             for name in first.arrays()})
