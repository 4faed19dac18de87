"""A compressed MetaImage field's voxels, inflated while the REG is written instead of before.

Inflating a 629 MB field whole before writing it costs the inflate's time on top of the
save's and holds the field in memory. :class:`StreamedVoxels` stands in for the array
instead: it knows the shape and type (everything the checks and the composition look at),
and gives the voxels slab by slab, inflated ahead by a thread (:func:`.inflate.inflate_ahead`),
to the one consumer that reads them all in order, the REG writer. Memory stays bounded like
an uncompressed field's save, and the inflate overlaps the writing on a second core.

Every rule of the whole inflate still holds, only later: exactly the promised bytes, the
checksum at the end, and the check of each slab's vectors (:attr:`StreamedVoxels.slab_check`,
set by the REG checks). A failure is raised by the consumer, which throws away what it made
(the REG writer's output is atomic). Any other use (indexing, ``numpy.asarray``) inflates the
field whole once, as before, and checks it whole.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from dicomreg.core.deformation.inflate import inflate, inflate_ahead
from dicomreg.core.errors import DicomRegError

__all__ = ["StreamedFieldError", "StreamedVoxels"]


class StreamedFieldError(DicomRegError):
    """A streamed field found damaged, or a vector refused, while it was being used."""


class StreamedVoxels:
    """The voxels of a compressed stream at ``offset`` of ``data_path``, of ``shape`` (Z, Y,
    X, C) and ``dtype``, inflated when used (see the module documentation).

    Parameters
    ----------
    source
        The field file, for messages.
    stored
        How many compressed bytes the stream may take.
    """

    def __init__(self, source: str | os.PathLike[str], data_path: Path, offset: int,
                 stored: int, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        self.source, self.data_path, self.offset, self.stored = (str(source), data_path,
                                                                 offset, stored)
        self.dtype, self.shape = np.dtype(dtype), tuple(shape)
        # Set by whoever checks the vectors (the REG checks): the first problem of a slab
        # whose first voxel is on slice ``z``, or None; applied to every slab given out.
        self.slab_check: Callable[[np.ndarray, int], str | None] | None = None
        self._array: np.ndarray | None = None

    @property
    def ndim(self) -> int:
        """The number of axes, as an array's."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """The number of values, as an array's."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """The bytes the values take inflated, as an array's."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: object) -> np.ndarray:
        return self.array()[key]

    def __array__(self, dtype: object = None, copy: bool | None = None) -> np.ndarray:
        # numpy 2 asks for a copy with copy=True; the inflated array is kept for later reads,
        # so a caller that writes into its copy must not write into the kept one
        if copy is False and dtype is not None and np.dtype(dtype) != self.dtype:
            raise ValueError("a streamed field's voxels cannot be given in another type "
                             "without a copy")  # numpy 2's protocol for copy=False
        array = np.asarray(self.array(), dtype=dtype)
        return array.copy() if copy else array

    def _fail(self, reason: str) -> StreamedFieldError:
        return StreamedFieldError(f"cannot read '{self.source}': {reason}")

    def _checked(self, slab: np.ndarray, z: int) -> np.ndarray:
        problem = self.slab_check(slab, z) if self.slab_check is not None else None
        if problem is not None:
            raise StreamedFieldError(problem)
        return slab

    def array(self) -> np.ndarray:
        """The voxels inflated whole (once) and checked.

        Raises
        ------
        StreamedFieldError
            If the stream is damaged or a vector is refused.
        """
        if self._array is None:
            try:
                with open(self.data_path, "rb") as handle:
                    handle.seek(self.offset)
                    raw = inflate(handle, self.nbytes, stored=self.stored)
            except (ValueError, OSError) as error:
                raise self._fail(str(error)) from None
            self._array = self._checked(raw.view(self.dtype).reshape(self.shape), 0)
        return self._array

    def slabs(self, step: int) -> Iterator[tuple[int, np.ndarray]]:
        """Each run of ``step`` slices from the first, with the index of its first slice,
        checked; the stream read to its end (its checksum) before the last run returns.

        Raises
        ------
        StreamedFieldError
            If the stream is damaged or a vector is refused: what was made of the runs
            before must be thrown away.
        """
        if self._array is not None:  # inflated already: nothing to stream, but the check
            for first in range(0, self.shape[0], step):
                yield first, self._checked(self._array[first : first + step], first)
            return
        slice_bytes = self.nbytes // self.shape[0] if self.shape[0] else 0
        pieces = inflate_ahead(self.data_path, self.offset, self.nbytes, stored=self.stored)
        rest = memoryview(b"")
        try:
            for first in range(0, self.shape[0], step):
                run = np.empty(min(step, self.shape[0] - first) * slice_bytes, np.uint8)
                filled = 0
                while filled < len(run):
                    if not rest:
                        rest = memoryview(next(pieces))
                    taken = min(len(rest), len(run) - filled)
                    run[filled : filled + taken] = np.frombuffer(rest[:taken], np.uint8)
                    filled, rest = filled + taken, rest[taken:]
                slab = run.view(self.dtype).reshape(-1, *self.shape[1:])
                yield first, self._checked(slab, first)
            for _ in pieces:  # none: the stream's end is checked on the way out
                pass
        except StreamedFieldError:  # a refused vector: its own line, as an unstreamed field's
            raise
        except (ValueError, OSError) as error:
            raise self._fail(str(error)) from None
        except StopIteration:  # pragma: no cover - exact_pieces raises before running short
            raise self._fail("its compressed voxels end early") from None
        finally:
            pieces.close()
