"""Euclidean silhouette, exact or sampled, in bounded memory.

Gives the number scikit-learn's `silhouette_score` gives (Euclidean metric), computed in
tiles of the distance matrix so that no n x n matrix ever exists, on all cores; above
`exact_max` points it evaluates a seeded uniform sample of points exactly (each against
all n points) and reports the sample mean with its standard error. `silhouettes` scores
several labelings of the same points (the k = 2..10 of a k table) from one pass over the
distances.

Why not `sklearn.metrics.silhouette_score`: at 80k points it takes ~40 s and 1.2 GB
(docs/performance.md); this module takes a fraction of that in ~100 MB. Why not the
O(n k) squared-Euclidean index: it is a different number (docs/engines.md).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._config._resources import cpu_count
from .._errors import DataError, UsageError

# Width (columns) and size (elements) of one distance tile: small enough that the
# tile and the passes over it (BLAS product, square root, sum) stay in cache.
_TILE_COLUMNS = 4096
_TILE_ELEMENTS = 2**19
# Below this many distances one thread is as fast (threading costs a few milliseconds).
_THREADED_PAIRS = 2**24
_DEFAULT_BLOCK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class SilhouetteEstimate:
    """Mean silhouette of a clustering, exact or estimated from a sample of points.

    `stderr` is 0.0 when exact; when sampled it is std(ddof=1) / sqrt(m) of the m sampled
    per-point values, times the finite population correction sqrt(1 - m / n).
    `samples` holds the per-point silhouette (length n), NaN where not evaluated.
    """

    value: float
    stderr: float
    method: str
    n_evaluated: int
    samples: np.ndarray


def silhouette_values(X, labels, rows=None, *, block_bytes: int = _DEFAULT_BLOCK_BYTES) -> np.ndarray:
    """Exact silhouette of the points `rows` (default all), each against all n points.

    Equals `sklearn.metrics.silhouette_samples(X, labels)[rows]` (Euclidean). Points in
    a segment of one get 0. `block_bytes` bounds the memory of the distance tiles in
    flight (all threads together); the rest is O(n (d + k)).

    >>> X = [[0.0], [1.0], [4.0], [6.0]]
    >>> silhouette_values(X, [3, 3, 7, 7]).round(4).tolist()
    [0.8, 0.75, 0.4286, 0.6364]
    """
    X = _check_X(X)
    coding = _check_labels(labels, X.shape[0])
    rows = _check_rows(rows, X.shape[0])
    if not isinstance(block_bytes, (int, np.integer)) or block_bytes < 8:
        raise UsageError(f"block_bytes must be an integer >= 8; got {block_bytes!r}")
    return _silhouette_rows(X, [coding], rows, int(block_bytes))[0]


def silhouette(X, labels, *, exact_max: int = 20_000, sample_size: int = 5_000, seed=0,
               single_precision: bool = False) -> SilhouetteEstimate:
    """Exact when n <= exact_max, else a seeded uniform sample of `sample_size` points each evaluated exactly against all n points.

    `single_precision` computes the sampled points' distances in float32 (sums in float64):
    2.3x faster at 800k points, per-point values within ~4e-5 of float64 and means within
    ~4e-7 (cc_general), far inside the estimate's standard error (~3e-3). The exact path is always float64.

    >>> est = silhouette([[0.0], [1.0], [4.0], [6.0]], [3, 3, 7, 7])
    >>> est.method, round(est.value, 4), est.stderr
    ('exact', 0.6537, 0.0)
    """
    return silhouettes(X, [labels], exact_max=exact_max, sample_size=sample_size, seed=seed,
                       single_precision=single_precision)[0]


def silhouettes(X, labelings, *, exact_max: int = 20_000, sample_size: int = 5_000, seed=0,
                single_precision: bool = False) -> list[SilhouetteEstimate]:
    """`silhouette(X, labels, ...)` for each labels in `labelings`, each distance computed once for all of them:
    the same numbers to ~1e-15 in float64; with `single_precision`, float32 sums in another order than
    one labelling's, as close to float64's.

    >>> [round(est.value, 4) for est in silhouettes([[0.0], [1.0], [4.0], [6.0]], [[3, 3, 7, 7], [0, 0, 0, 1]])]
    [0.6537, 0.1887]
    """
    X = _check_X(X)
    codings = [_check_labels(labels, X.shape[0]) for labels in labelings]
    n = X.shape[0]
    for name, value, low in (("exact_max", exact_max, 0), ("sample_size", sample_size, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise UsageError(f"silhouette {name} must be an integer >= {low}; got {value!r}")
    if n <= exact_max or sample_size >= n:
        return [SilhouetteEstimate(float(values.mean()), 0.0, "exact", n, values)
                for values in _silhouette_rows(X, codings, np.arange(n), _DEFAULT_BLOCK_BYTES)]
    m = int(sample_size)
    rows = np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))
    estimates = []
    for values in _silhouette_rows(X, codings, rows, _DEFAULT_BLOCK_BYTES, np.float32 if single_precision else np.float64):
        samples = np.full(n, np.nan)
        samples[rows] = values
        stderr = float(values.std(ddof=1) / np.sqrt(m) * np.sqrt(1.0 - m / n))
        estimates.append(SilhouetteEstimate(float(values.mean()), stderr, "sampled", m, samples))
    return estimates


def _check_X(X) -> np.ndarray:
    """Validated float64 X (n x d)."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"silhouette needs numeric features: {exc}") from None
    if X.ndim != 2 or X.shape[1] == 0:
        raise UsageError(f"silhouette needs a 2-D feature matrix with at least one column; got shape {X.shape}")
    if not np.isfinite(X).all():
        bad = int(np.count_nonzero(~np.isfinite(X).all(axis=1)))
        raise DataError(f"silhouette needs finite features; {bad} of {X.shape[0]} customers have NaN or infinite values")
    return X


def _check_labels(labels, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated labels of n points as (codes 0..k-1, size of each segment)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise UsageError(f"silhouette needs one label per customer; got labels of shape {labels.shape} for {n} customers")
    _, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1).astype(np.intp, copy=False)
    n_segments = int(codes.max(initial=-1)) + 1
    if not 2 <= n_segments <= n - 1:
        raise UsageError(
            "silhouette needs 2 <= number of segments <= n_samples - 1; "
            f"got {n_segments} segment{'s' if n_segments != 1 else ''} for {n} customers"
        )
    return codes, np.bincount(codes, minlength=n_segments)


def _check_rows(rows, n: int) -> np.ndarray:
    """`rows` as an index array into 0..n-1 (None means all; a boolean mask is accepted)."""
    if rows is None:
        return np.arange(n)
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise UsageError(f"a boolean rows mask needs length {n}; got shape {rows.shape}")
        return np.flatnonzero(rows)
    if rows.ndim != 1 or (rows.size and rows.dtype.kind not in "iu"):
        raise UsageError(f"rows must be a 1-D array of integer indices; got dtype {rows.dtype}, shape {rows.shape}")
    rows = rows.astype(np.intp, copy=False)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise UsageError(f"rows must be indices in 0..{n - 1}; got values from {rows.min()} to {rows.max()}")
    return rows


def _thread_count(pairs: int) -> int:
    """Threads to use: the CPUs we may run on (affinity and cgroup quota), capped by the BLAS thread limit the user set."""
    if pairs < _THREADED_PAIRS:
        return 1
    cpus = cpu_count()
    from threadpoolctl import threadpool_info

    blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    return max(1, min([cpus, *blas]))


def _silhouette_rows(X: np.ndarray, codings: list[tuple[np.ndarray, np.ndarray]], rows: np.ndarray,
                     block_bytes: int, dtype=np.float64) -> list[np.ndarray]:
    """Silhouettes of points `rows` against all points under each (codes, sizes) coding; inputs already validated.

    One coding: tiles of segment-sorted columns (faster for one); several: each distance
    once for all of them (9 k's of 100,000 customers: 5.5 -> 1.6 s in float32).
    """
    if len(codings) > 1:
        sums = _segment_distance_sums(X, codings, rows, block_bytes, dtype)
    else:
        sums = [_sorted_segment_distance_sums(X, codes, sizes, rows, block_bytes, dtype) for codes, sizes in codings]
    return [_values(part, codes[rows], sizes) for part, (codes, sizes) in zip(sums, codings)]


def _values(sums: np.ndarray, own: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per-point silhouettes from the sums of distances to each segment (len(own) x k; overwritten)."""
    idx = np.arange(own.size)
    intra = sums[idx, own]
    sums[idx, own] = np.inf
    inter = (sums / sizes).min(axis=1)
    # Same operations, in the same order, as sklearn.metrics.silhouette_samples.
    with np.errstate(divide="ignore", invalid="ignore"):
        intra /= sizes[own] - 1
        values = inter - intra
        values /= np.maximum(intra, inter)
    return np.nan_to_num(values)  # NaN: segment of one (0 / 0), or all distances 0


def _segment_distance_sums(X, codings, rows, block_bytes, dtype) -> list[np.ndarray]:
    """For each (codes, sizes) coding, each point in `rows`' sums of Euclidean distances to each segment's points.

    Each distance is computed once for all codings, as in `_sorted_segment_distance_sums`
    (clipped at 0 before the square root); a tile's per-segment sums under every coding are
    then one BLAS product of the tile with the 0/1 matrix of its columns' segments (a
    column per segment of each coding), so that k = 2..10 cost little more than one k.
    """
    n = X.shape[0]
    widths = [sizes.size for _, sizes in codings]
    offsets = np.cumsum([0, *widths[:-1]])
    columns = np.stack([codes + offset for (codes, _), offset in zip(codings, offsets)], axis=1)  # n x codings
    left, right = _augmented(X, rows, np.arange(n), dtype)
    threads, height, width = _layout(rows.size, n, block_bytes, dtype)
    sums = np.zeros((rows.size, sum(widths)))  # float64: each tile's float32 sums are added in float64

    def worker():
        buffer, indicator = np.empty(height * width, dtype=dtype), np.empty((width, sums.shape[1]), dtype=dtype)
        return lambda block: _indicator_block_sums(left[block], right, rows[block], columns, width, buffer, indicator,
                                                   sums[block])

    _over_row_blocks(rows.size, height, threads, worker)
    return np.split(sums, np.cumsum(widths)[:-1], axis=1)


def _sorted_segment_distance_sums(X, codes, sizes, rows, block_bytes, dtype) -> np.ndarray:
    """For each point in `rows`, the sum of its Euclidean distances to each segment's points (one coding).

    Columns (all points) are sorted by segment so that a tile's columns split into a few
    runs of one segment each, summed with np.add.reduceat. Distances use the formula of
    sklearn's euclidean_distances, |x|^2 + |y|^2 - 2 x.y, clipped at 0, square-rooted,
    with each point's distance to itself set to 0 (`_augmented`).
    """
    n = X.shape[0]
    order = np.argsort(codes, kind="stable")
    position = np.empty(n, dtype=np.intp)  # column of each point in the sorted order
    position[order] = np.arange(n)
    left, right = _augmented(X, rows, order, dtype)  # float32 for sampled estimates: half the time (docs/performance.md)
    self_column = position[rows]
    threads, height, width = _layout(rows.size, n, block_bytes, dtype)
    tiles = _column_tiles(sizes, width)
    sums = np.zeros((rows.size, sizes.size))

    def worker():
        buffer = np.empty(height * width, dtype=dtype)
        return lambda block: _block_sums(left[block], right, self_column[block], tiles, buffer, sums[block])

    _over_row_blocks(rows.size, height, threads, worker)
    return sums


def _augmented(X: np.ndarray, rows: np.ndarray, order: np.ndarray, dtype) -> tuple[np.ndarray, np.ndarray]:
    """[x, |x|^2, 1] for the points `rows` and [-2y, 1, |y|^2] for all points in `order`: one BLAS
    product of the two gives every |x|^2 + |y|^2 - 2 x.y."""
    n, d = X.shape
    squared_norms = np.einsum("ij,ij->i", X, X)
    right = np.empty((n, d + 2), dtype=dtype)
    right[:, :d] = -2.0 * X[order]
    right[:, d] = 1.0
    right[:, d + 1] = squared_norms[order]
    left = np.empty((rows.size, d + 2), dtype=dtype)
    left[:, :d] = X[rows]
    left[:, d] = squared_norms[rows]
    left[:, d + 1] = 1.0
    return left, right


def _layout(n_rows: int, n: int, block_bytes: int, dtype) -> tuple[int, int, int]:
    """(threads, tile height, tile width) for `n_rows` points against n columns within `block_bytes`."""
    threads = min(_thread_count(n_rows * n), -(-n_rows // 64)) or 1
    tile_elements = max(1, min(_TILE_ELEMENTS, block_bytes // (np.dtype(dtype).itemsize * threads)))
    width = min(n, _TILE_COLUMNS, tile_elements)
    return threads, max(1, min(n_rows, tile_elements // width)), width


def _over_row_blocks(n_rows: int, height: int, threads: int, worker: Callable[[], Callable[[slice], None]]) -> None:
    """Call a worker (made by `worker()` in each thread) on every block of `height` rows, on `threads` threads."""
    blocks: queue.SimpleQueue = queue.SimpleQueue()
    for start in range(0, n_rows, height):
        blocks.put(slice(start, min(n_rows, start + height)))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            do = worker()
            while True:
                try:
                    block = blocks.get_nowait()
                except queue.Empty:
                    return
                do(block)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    if threads == 1:
        work()
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):  # our threads, not BLAS's
            workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join()
    if errors:
        raise errors[0]


def _squared_distance_tile(left, right, start, stop, self_column, buffer) -> np.ndarray:
    """The b x (stop - start) squared distances of the points in `left` to columns start..stop, self-distances 0."""
    tile = buffer[: left.shape[0] * (stop - start)].reshape(left.shape[0], stop - start)
    np.matmul(left, right[start:stop].T, out=tile)
    inside = np.flatnonzero((self_column >= start) & (self_column < stop))
    tile[inside, self_column[inside] - start] = 0.0
    return tile


def _indicator_block_sums(left, right, self_column, columns, width, buffer, indicator, out) -> None:
    """Add to `out` the per-segment distance sums, under every coding, of the points in `left`."""
    n = right.shape[0]
    for start in range(0, n, width):
        stop = min(n, start + width)
        tile = _squared_distance_tile(left, right, start, stop, self_column, buffer)
        np.maximum(tile, 0.0, out=tile)  # rounding can make the squared distance of (near-)identical points < 0
        np.sqrt(tile, out=tile)
        segments = indicator[: stop - start]
        segments.fill(0.0)
        np.put_along_axis(segments, columns[start:stop], 1.0, axis=1)
        out += tile @ segments


def _column_tiles(sizes: np.ndarray, width: int) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """Split the segment-sorted columns into tiles of `width`: (start, stop, offsets
    within the tile where a segment begins, those segments' numbers)."""
    segment_starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    n = int(sizes.sum())
    tiles = []
    for start in range(0, n, width):
        stop = min(n, start + width)
        first = np.searchsorted(segment_starts, start, side="right") - 1
        last = np.searchsorted(segment_starts, stop, side="left")
        offsets = np.maximum(segment_starts[first:last], start) - start
        tiles.append((start, stop, offsets, np.arange(first, last)))
    return tiles


def _block_sums(left, right, self_column, tiles, buffer, out) -> None:
    """Add to `out` (b x k) the per-segment distance sums of the b points in `left`.

    Rounding can make the squared distance of two (near-)identical points slightly
    negative; sklearn clips those at 0. Clipping every tile costs ~20%, so tiles are
    square-rooted unclipped and only rows that came out NaN are redone, until a tile has
    many such rows (data with many duplicates): then the rest of the block is clipped
    first, as an integer maximum on the float bits (negative floats are negative int64).
    """
    b = left.shape[0]
    clip_first = False
    with np.errstate(invalid="ignore"):
        for start, stop, offsets, segments in tiles:
            tile = _squared_distance_tile(left, right, start, stop, self_column, buffer)
            if clip_first:
                bits = tile.view(np.int64 if tile.dtype == np.float64 else np.int32)
                np.maximum(bits, 0, out=bits)
            np.sqrt(tile, out=tile)  # NaN where a squared distance was < 0
            partial = np.add.reduceat(tile, offsets, axis=1)
            if not clip_first:
                broken = np.flatnonzero(np.isnan(partial).any(axis=1))
                if broken.size:  # those distances are 0: redo those rows
                    fixed = tile[broken]
                    fixed[np.isnan(fixed)] = 0.0
                    partial[broken] = np.add.reduceat(fixed, offsets, axis=1)
                    clip_first = broken.size * 8 > b
            out[:, segments] += partial
