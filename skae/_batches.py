"""How data reaches a network: training batches indexed from one tensor (or
read block by block from a memory-mapped array, or densified from a sparse
matrix), and inference in bounded memory (torch and numpy only); what is
held out of them is in ``_holdout.py``."""

import copy
import math
import mmap

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["Rows", "Shards", "SparseBatches", "StreamedBatches", "TensorBatches",
           "dense_rows", "is_memory_mapped", "map_batches"]

#: Bytes of rows that a streamed epoch reads from disk at a time.
_BLOCK_BYTES = 16 * 2**20


def is_memory_mapped(X):
    """Whether ``X`` is a view of a memory-mapped file (``np.memmap``,
    ``np.load(mmap_mode=...)``): training then reads it block by block."""
    base = X
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    return isinstance(base, (np.memmap, mmap.mmap))


def dense_rows(X, start, stop, dtype=np.float32, unstored=0.0):
    """Rows ``start:stop`` of an array or a sparse matrix, as a dense
    ``dtype`` copy (a sparse matrix is never densified whole; its unstored
    entries become ``unstored``: zero, or NaN where they are holes)."""
    rows = X[start:stop]
    if sp.issparse(rows):
        return _densify(rows, dtype, unstored)
    # np.array copies: the result never aliases read-only or mapped input.
    return np.array(rows, dtype=dtype)


def _densify(rows, dtype, unstored=0.0):
    """A sparse matrix of rows as a dense ``dtype`` array whose unstored
    entries are ``unstored``."""
    if unstored == 0:
        return rows.toarray().astype(dtype, copy=False)
    coo = rows.tocoo()
    out = np.full(coo.shape, unstored, dtype=dtype)
    out[coo.row, coo.col] = coo.data
    return out


def _to_device(rows, device, unstored=0.0):
    """A CSR matrix of rows as a dense float32 tensor, densified on ``device``
    (only the stored values travel there; unstored entries are
    ``unstored``: zero, or NaN where they are holes)."""
    coo = rows.tocoo()
    index = torch.from_numpy(np.stack([coo.row, coo.col]).astype(np.int64)).to(device)
    values = torch.from_numpy(coo.data.astype(np.float32, copy=False)).to(device)
    if unstored == 0:
        return torch.sparse_coo_tensor(index, values, size=coo.shape,
                                       check_invariants=False).to_dense()
    out = torch.full(coo.shape, float(unstored), dtype=torch.float32, device=device)
    out[index[0], index[1]] = values
    return out


class Rows:
    """Rows ``index`` (all rows when None) of one 2-D tensor, memory-mapped
    array or CSR matrix, without copying. ``origin``: when ``data`` is a copy
    of some rows of the training data, their row numbers there."""

    def __init__(self, data, index=None, origin=None):
        self.data = data
        self.index = index
        self.origin = origin

    def __len__(self):
        return self.data.shape[0] if self.index is None else len(self.index)

    def numbers(self, positions):
        """Row numbers in the training data of rows ``positions`` of ``data``
        (an int64 tensor)."""
        return positions if self.origin is None else self.origin[positions]


class TensorBatches:
    """Mini-batches of :class:`Rows`, built by indexing the tensor.

    No per-sample ``__getitem__`` or collate: one ``randperm`` per epoch when
    shuffling, then one indexing operation per batch, on the data's device.
    Yields ``(batch, rows)``: an autoencoder's target is its input, and
    ``rows`` are the batch's row numbers in the training data (int64, where
    the batch is), by which the structure loss looks up their layout codes.
    """

    def __init__(self, rows, batch_size, shuffle=False, generator=None):
        self.rows = rows
        self.batch_size = max(1, int(batch_size))
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(len(self.rows) / self.batch_size)

    def __iter__(self):
        data, order, n = self.rows.data, self.rows.index, len(self.rows)
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator).to(data.device)
            order = perm if order is None else order[perm]
        if order is None:
            order = torch.arange(n, device=data.device)
        for start in range(0, n, self.batch_size):
            index = order[start:start + self.batch_size]
            # index_select: half the cost of data[index] on the CPU.
            yield torch.index_select(data, 0, index), self.rows.numbers(index)


class StreamedBatches:
    """Mini-batches of :class:`Rows` of a memory-mapped array, in bounded memory.

    An epoch reads the array in contiguous blocks of about 16 MB, in a
    shuffled order of blocks (disk reads stay sequential), shuffles the rows
    of each block, and yields full batches across block boundaries; only a
    block and a batch are in memory at a time. Yields ``(batch, rows)``:
    float32 rows on ``device`` and their row numbers.
    """

    def __init__(self, rows, batch_size, shuffle=False, generator=None, device="cpu"):
        self.rows = rows
        self.batch_size = max(1, int(batch_size))
        self.shuffle = shuffle
        self.generator = generator
        self.device = device
        row_bytes = rows.data.shape[1] * rows.data.dtype.itemsize
        per_block = max(1, _BLOCK_BYTES // max(row_bytes * self.batch_size, 1))
        self.block_rows = per_block * self.batch_size

    def __len__(self):
        return math.ceil(len(self.rows) / self.batch_size)

    def _blocks(self):
        """Row blocks ``(start, stop)`` in reading order."""
        n = len(self.rows.data)
        starts = torch.arange(0, n, self.block_rows)
        if self.shuffle:
            starts = starts[torch.randperm(len(starts), generator=self.generator)]
        return [(int(s), min(int(s) + self.block_rows, n)) for s in starts]

    def _read(self, start, stop):
        """The block's rows that belong to these :class:`Rows`, shuffled when
        training, as one float32 copy, and their row numbers."""
        rows = np.arange(stop - start)
        index = self.rows.index
        if index is not None:
            rows = index[np.searchsorted(index, start):np.searchsorted(index, stop)] - start
        if self.shuffle:
            rows = rows[torch.randperm(len(rows), generator=self.generator).numpy()]
        block = np.asarray(self.rows.data[start:stop][rows], dtype=np.float32)
        return torch.from_numpy(block), torch.from_numpy(rows + start)

    def _batch(self, values, numbers):
        return values.to(self.device), numbers.to(self.device)

    def __iter__(self):
        size, carry = self.batch_size, None
        for start, stop in self._blocks():
            block, numbers = self._read(start, stop)
            first = 0
            if carry is not None:  # complete the batch begun in the last block
                first = size - len(carry[0])
                carry = (torch.cat([carry[0], block[:first]]),
                         torch.cat([carry[1], numbers[:first]]))
                if len(carry[0]) < size:
                    continue
                yield self._batch(*carry)
                carry = None
            full = first + (len(block) - first) // size * size
            for at in range(first, full, size):
                yield self._batch(block[at:at + size], numbers[at:at + size])
            if full < len(block):
                carry = (block[full:].clone(), numbers[full:])
        if carry is not None:
            yield self._batch(*carry)


class SparseBatches(TensorBatches):
    """Mini-batches of :class:`Rows` of a CSR matrix, in the order
    :class:`TensorBatches` takes: each batch's rows are taken from the matrix
    and densified on ``device``; the matrix itself is never densified.
    Yields ``(batch, rows)``: float32 rows and their row numbers. The
    unstored entries are zeros, or holes (NaN) with ``unstored=nan`` (a
    ratings matrix, whose stored entries are the observed ones)."""

    def __init__(self, rows, batch_size, shuffle=False, generator=None, device="cpu",
                 unstored=0.0):
        super().__init__(rows, batch_size, shuffle, generator)
        self.device = device
        self.unstored = unstored

    def __iter__(self):
        n, data = len(self.rows), self.rows.data
        order = np.arange(n) if self.rows.index is None else np.asarray(self.rows.index)
        if self.shuffle:
            order = order[torch.randperm(n, generator=self.generator).numpy()]
        for start in range(0, n, self.batch_size):
            index = order[start:start + self.batch_size]
            yield (_to_device(data[index], self.device, self.unstored),
                   self.rows.numbers(torch.from_numpy(index)).to(self.device))


class Shards:
    """A data-parallel process's part of each training batch: rows
    ``rank::world`` (the batch order is the same in every process; a last
    batch of fewer rows than processes is left out). Records the whole
    batch's size on the net for :meth:`skae._net.AutoencoderNet.sync_gradients`."""

    def __init__(self, net, batches):
        self.net, self.batches = net, batches

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        rank, world = self.net.rank_, self.net.world_
        for batch, rows in self.batches:
            if len(batch) < world:  # a last batch too small to share is left out
                continue
            self.net.global_rows_ = len(batch)
            yield batch[rank::world], rows[rank::world]


def _memmap_pages(X):
    """``(mmap, offset of X's data in it)`` for a read-only or shared memmap
    view ``X`` with contiguous rows, else None."""
    base = X
    # Owners of borrowed memory (torch tensors, bytes, memoryviews, polars or
    # pyarrow buffers) end the walk: only numpy arrays have a numpy .base.
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    if not isinstance(base, np.memmap):
        return None
    if (getattr(base, "_mmap", None) is None or base.mode == "c"
            or not X.flags.c_contiguous or not hasattr(mmap, "MADV_DONTNEED")):
        return None
    # numpy maps from the file offset rounded down to the allocation granularity.
    mm_address = base.ctypes.data - base.offset % mmap.ALLOCATIONGRANULARITY
    return base._mmap, X.ctypes.data - mm_address


def _release_pages(pages, start, stop):
    """Drop the resident pages of bytes [start, stop) of a file mapping: they
    are clean or written back, and are read again from the file if needed."""
    mm, _ = pages
    first = start - start % mmap.PAGESIZE
    last = min(stop - stop % mmap.PAGESIZE, len(mm))
    if last > first:
        mm.madvise(mmap.MADV_DONTNEED, first, last - first)


def map_batches(net, fn, X, dtype, batch_size, check=None, unstored=0.0):
    """Apply ``fn(module, tensor_batch)`` to ``X`` batch by batch.

    Runs in eval mode under ``torch.inference_mode``. ``X`` is converted batch
    by batch (``check``, if given, validates each converted numpy batch), so a
    large or memory-mapped array is never copied whole; the pages of a memmap
    are released once read, keeping the resident memory bounded (a sparse
    matrix's unstored entries are ``unstored``, as in :func:`dense_rows`). With float64
    ``dtype`` the computation runs on a float64 copy of the module so that a
    row's result does not depend on the batch it is in.
    """
    module = net.module_
    if dtype == np.float64:
        module = copy.deepcopy(module).double()
    module.eval()
    pages = None if sp.issparse(X) else _memmap_pages(X)
    row_bytes = None if pages is None else X.strides[0]
    # One output array, filled in place: per-batch results kept in a list
    # would pin the heap between the large per-batch buffers and grow memory
    # with the number of rows.
    out = None
    with torch.inference_mode():
        for start in range(0, X.shape[0], batch_size):
            rows = dense_rows(X, start, start + batch_size, dtype, unstored)
            if pages is not None:
                _release_pages(pages, pages[1] + start * row_bytes,
                               pages[1] + (start + len(rows)) * row_bytes)
            if check is not None:
                check(rows)
            batch = torch.from_numpy(rows).to(net.device)
            result = fn(module, batch).cpu().numpy()
            if out is None:
                out = np.empty((X.shape[0], *result.shape[1:]), dtype=dtype)
            out[start:start + len(result)] = result
    return out
