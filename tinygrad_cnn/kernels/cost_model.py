"""The correlation engine's cost model: which of its five paths runs a call.

:func:`choose_path` counts each path's work for one call (``correlation.correlate``
or ``conv_weight_grad.weight_gradient``) in units of one multiply-add of the
forward tap loops, with constants fitted to measured timings, and returns the
cheapest; :func:`force_path` overrides it (tests run every path).  The paths
themselves are described in ``kernels/correlation.py``.
"""
import contextlib

import numpy as np

__all__ = ["PATHS", "choose_path", "covers_map", "force_path", "winograd_applies"]

#: Set by :func:`force_path` (tests run every path whatever the cost model says).
_FORCED = None
PATHS = ("taps", "im2col", "scatter", "batch", "winograd")

#: Cost model, in units of one multiply-add of the forward tap loops (about
#: 27 ps on one thread here), fitted to 1-thread timings of every path on
#: LeNet's C1, C3 (tabled and dense), C5, a 32-map 3×3 layer and a dilated one:
#: the weight gradient's tap loops (dot products) cost TAP_COST_WEIGHT per
#: multiply-add; BLAS's multiply-add costs GEMM_COST once it has GEMM_FULL rows
#: and inner depth, more below; im2col's copy costs per element 4 units plus
#: a per-row overhead spread over the Wo elements of a row (short rows are
#: dear); the scatter's add per product costs SCATTER_COST.
TAP_COST_WEIGHT = 0.9
#: ... and each of its dot products costs DOT_OVERHEAD more: a whole-map kernel's
#: dot products are one multiply-add long, where BLAS is far cheaper.
DOT_OVERHEAD = 16
GEMM_COST = 0.55
GEMM_FULL = 16
SCATTER_COST = 36.0
#: The batch-innermost path (``kernels/batch_inner.py``) counts only the Wo real
#: columns of a row, at BATCH_COST per multiply-add (its loops are long: Wo·N)
#: and BATCH_COST_WEIGHT for the weight gradient's dot products, plus
#: BATCH_COPY_COST per number of V and Z it copies to and from its layout.  It
#: runs only while those copies fit in a core's cache (BATCH_MAX_COPIES numbers):
#: beyond, every pass over an output row streams them from memory (a 32-map 3×3
#: layer on 32×32 maps: its dW 9.7 ms against the taps' 7.0 ms).
#: Nor below BATCH_MIN_RUN numbers per run (Wo·N): LeNet's C3 at batch 32 (runs of
#: 320) measured the same on both paths, forward + backward, so the extra kernels
#: (about 10 s to compile on first use) are left out there; at batch 64 (runs of
#: 640) the batch path took C3's forward + backward from 1.38 to 1.14 ms.
BATCH_COST = 0.8
BATCH_COST_WEIGHT = 0.75
BATCH_COPY_COST = 12.0
BATCH_MAX_COPIES = 1 << 19
BATCH_MIN_RUN = 512
#: The im2col forward product ``(O, depth) @ (depth, cols)`` streams its whole
#: output once per block of its inner dimension, so it reaches BLAS's rate only
#: from about this depth on (OpenBLAS blocks the inner dimension by a few
#: hundred).  The weight gradient's product sums over the batch's columns
#: instead, always deep.
IM2COL_DEPTH_FULL = 256
#: The Winograd path (``kernels/winograd.py``, 3×3 kernels at stride 1) costs, per 6×6
#: tile (4×4 outputs) of an example, WINOGRAD_IN_COST per input map (its transform),
#: WINOGRAD_OUT_COST per output map (the transform back) and 36 products per connected pair
#: at BLAS's rate, plus WINOGRAD_CALL_COST per example (its Python and its 36 BLAS calls,
#: about 40 µs): fitted to a 32 → 64-map layer on 32×32 maps, one thread, inside the loop
#: over examples (input transform 78 µs, output 120 µs, products 75 µs an example), and
#: checked on 2 threads against the taps: 64 → 64 maps on 16×16 3.1 against 4.5 ms (taken),
#: 32 → 32 on 16×16 1.5 against 1.15 ms (left to the taps).
WINOGRAD_IN_COST = 1400.0
WINOGRAD_OUT_COST = 1080.0
WINOGRAD_CALL_COST = 1_500_000.0

def _gemm(rows, depth):
    return GEMM_COST * max(1.0, GEMM_FULL / rows) * max(1.0, GEMM_FULL / depth)


def _copy(Wo):
    return 4.0 + 800.0 / Wo


def _real_taps(size, before, out, k, d):
    """Σ over the kernel's k taps along one axis of the output positions (of ``out``) whose
    input position is one of V's ``size``, not one of the ``before`` padding zeros before it."""
    return sum(max(0, min(out, before + size - t * d) - max(0, before - t * d)) for t in range(k))


def winograd_applies(kh, kw, stride, dilation, padding, weight=False):
    """Whether the Winograd path can compute this call: a correlation (not a weight gradient)
    with a 3×3 kernel at stride 1 and dilation 1, on a V padded by ``padding`` (None: cropped)."""
    return (not weight and (kh, kw) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation or (1, 1)) == (1, 1) and padding is not None and min(padding) >= 0)


def choose_path(N, C, O, kh, kw, Ho, Wo, Wp, stride, conn, weight=False, input_size=None, whole=False,
                dilation=None, padding=None):
    """``"taps"``, ``"batch"``, ``"im2col"``, ``"scatter"`` or ``"winograd"``: the cheapest path
    for this call by the cost model.

    Counted: taps = connected multiply-adds over the wide rows (Wp per output
    row at stride 1); batch (stride 1, small maps) = connected multiply-adds over
    the Wo real columns plus one copy per number of V and Z; im2col = one copy
    per column entry plus the dense multiply-adds at BLAS's rate; scatter
    (stride 1, ``input_size`` = the unpadded (H, W)) = the dense multiply-adds of
    the real input cells only plus one add per product.  Tables with unconnected
    pairs take the taps or the batch path, which skip them (the weight gradient
    may take im2col: it zeroes their kernels after).  ``whole``: the kernel
    covers the whole padded map (:func:`covers_map`), so im2col copies nothing.
    ``dilation`` gives the padded size of V from the output's; ``padding`` (top,
    bottom, left, right), where given, lets the batch path count only the taps over
    V's own cells: it skips the rest (most of the full correlation's taps).  winograd (3×3
    kernels at stride 1 and dilation 1, dense tables, ``padding`` given) = the transforms of
    every 6×6 tile's input and output maps plus 36 products per pair at BLAS's rate.
    """
    if _FORCED is not None:
        if _FORCED == "winograd" and not winograd_applies(kh, kw, stride, dilation, padding, weight):
            return "taps"
        if _FORCED == "scatter" and (weight or input_size is None):
            return "taps"
        if _FORCED == "batch" and (stride != (1, 1) or input_size is None or whole):
            return "taps"
        return _FORCED
    # a layer asks the same three questions on every call: the answers are kept (about
    # 17 µs of Python per forward + backward of C3 otherwise)
    key = (N, C, O, kh, kw, Ho, Wo, Wp, tuple(stride), conn.shape, conn.tobytes(), weight,
           input_size and tuple(input_size), whole, dilation and tuple(dilation), padding and tuple(padding))
    path = _CHOSEN.get(key)
    if path is None:
        if len(_CHOSEN) >= 4096:
            _CHOSEN.clear()
        path = _CHOSEN[key] = _cheapest(N, C, O, kh, kw, Ho, Wo, Wp, stride, conn, weight, input_size,
                                        whole, dilation, padding)
    return path


#: choose_path's answers, by its arguments
_CHOSEN = {}


def _cheapest(N, C, O, kh, kw, Ho, Wo, Wp, stride, conn, weight, input_size, whole, dilation, padding):
    """The body of :func:`choose_path`: the cost model's cheapest path."""
    pairs = np.count_nonzero(conn)
    depth = C * kh * kw
    cols = N * Ho * Wo
    row = Wp if stride == (1, 1) else Wo * stride[1]
    if weight:  # one dot product per (pair, tap, example): its length, plus a start-up each
        cost = {"taps": TAP_COST_WEIGHT * pairs * kh * kw * N * (Ho * row + DOT_OVERHEAD)}
    else:
        cost = {"taps": pairs * kh * kw * N * Ho * row}
    copy = 0.0 if whole else _copy(Wo) * depth * cols
    if weight:
        cost["im2col"] = copy + _gemm(O, cols) * O * depth * cols
    elif pairs == O * C:
        shallow = max(1.0, IM2COL_DEPTH_FULL / depth)
        cost["im2col"] = copy + shallow * _gemm(O, depth) * O * depth * cols
    if not weight and pairs == O * C and input_size is not None and stride == (1, 1):
        cells = N * input_size[0] * input_size[1]
        cost["scatter"] = (SCATTER_COST + _gemm(O * kh * kw, C) * C) * O * kh * kw * cells
    if input_size is not None and stride == (1, 1) and not whole:
        dh, dw = dilation or (1, 1)
        padded_v = (Ho + (kh - 1) * dh) * (Wo + (kw - 1) * dw)
        copies = N * (C * padded_v + O * Ho * Wo)
        if weight:
            macs = BATCH_COST_WEIGHT * pairs * kh * kw * N * Ho * Wo
        elif padding is not None:
            rows = _real_taps(input_size[0], padding[0], Ho, kh, dh)
            macs = BATCH_COST * pairs * N * rows * _real_taps(input_size[1], padding[2], Wo, kw, dw)
        else:
            macs = BATCH_COST * pairs * kh * kw * N * Ho * Wo
        if copies <= BATCH_MAX_COPIES and Wo * N >= BATCH_MIN_RUN:
            cost["batch"] = macs + BATCH_COPY_COST * copies
    if pairs == O * C and winograd_applies(kh, kw, stride, dilation, padding, weight):
        tiles = N * ((Ho + 3) // 4) * ((Wo + 3) // 4)
        cost["winograd"] = (tiles * (WINOGRAD_IN_COST * C + WINOGRAD_OUT_COST * O + 36 * _gemm(O, C) * O * C)
                            + WINOGRAD_CALL_COST * N)
    return min(cost, key=cost.get)


def covers_map(padded_hw, kh, kw, dilation):
    """True when the kernel is exactly the padded map's size: the one window is the whole map,
    and im2col's columns are the maps themselves (nothing to copy; a fully connected layer)."""
    return tuple(padded_hw) == (kh, kw) and tuple(dilation) == (1, 1)


@contextlib.contextmanager
def force_path(path):
    """``with force_path("taps" | "im2col" | "scatter" | "batch" | "winograd"): ...`` runs every
    correlation and weight
    gradient inside through that path where it applies (for tests; None restores the cost model)."""
    global _FORCED
    if path is not None and path not in PATHS:
        raise ValueError(f"force_path: path must be one of {PATHS} or None, got {path!r}")
    saved, _FORCED = _FORCED, path
    try:
        yield
    finally:
        _FORCED = saved
