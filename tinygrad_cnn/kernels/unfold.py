"""Windows as columns and back: ``unfold`` (im2col) and its adjoint ``fold`` (col2im).

For an input of C maps with kernel (kh, kw), stride S, dilation D and padding P, window
number b = i·Wo + j and row r = (c·kh + k)·kw + l::

    unfold   col[n, r, b] = pad(x)[n, c, i·S_r + k·D_r, j·S_c + l·D_c]
    fold     y[n, c, i·S_r + k·D_r − P_r, j·S_c + l·D_c − P_c] += col[n, r, b]   (inside y only)

``fold`` is ``unfold``'s adjoint, so each is the other's backward: an overlapped cell's
gradient is the sum of its copies' gradients.  ``fold`` adds in the order (k, l, i, j) for
each map, PyTorch's col2im order, so the bits agree.
"""
import numpy as np
from numba import njit, prange

from ._parallel import run_kernel
from .im2col import im2col

__all__ = ["unfold", "fold", "unfold_reference", "fold_reference"]


def unfold(x, kernel, stride, dilation, padding):
    """``(N, C·kh·kw, L)`` columns of ``x`` ``(N, C, H, W)`` (zero-padded by ``padding`` = (ph, pw))."""
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = kernel, stride, dilation, padding
    N, C = x.shape[:2]
    xp = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x)
    Ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    Wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    col = np.empty((C * kh * kw, N * Ho * Wo), dtype=x.dtype)
    im2col(xp, 0, N, kh, kw, sh, sw, dh, dw, col)
    return np.ascontiguousarray(col.reshape(C * kh * kw, N, Ho * Wo).transpose(1, 0, 2))


def fold(col, output_size, kernel, stride, dilation, padding):
    """``(N, C, H, W)`` from columns ``(N, C·kh·kw, L)``: every column's values added back into
    the window it came from (cells in the padding are dropped)."""
    (kh, kw) = kernel
    N, rows, L = col.shape
    C = rows // (kh * kw)
    H, W = output_size
    return run_kernel(_fold, N * rows * L, np.ascontiguousarray(col), C, H, W, kh, kw, *stride, *dilation,
                      *padding)


@njit(parallel=True, cache=True)
def _fold(col, C, H, W, kh, kw, sh, sw, dh, dw, ph, pw):
    """Compiled body of :func:`fold`: one parallel iteration per (n, c) map, each adding its
    columns' values in the order (k, l, i, j)."""
    N, rows, L = col.shape
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.empty((N, C, H, W), dtype=col.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        out[n, c] = 0
        for k in range(kh):
            for l in range(kw):
                r = (c * kh + k) * kw + l
                for i in range(Ho):
                    y = i * sh + k * dh - ph
                    if y < 0 or y >= H:
                        continue
                    for j in range(Wo):
                        x = j * sw + l * dw - pw
                        if 0 <= x < W:
                            out[n, c, y, x] += col[n, r, i * Wo + j]
    return out


def _window_cells(N, C, H, W, kernel, stride, dilation, padding):
    """Every (n, c, row, window, y, x) of the naive loops: row (c·kh + k)·kw + l of window
    i·Wo + j reads cell (y, x) = (i·S_r + k·D_r − P_r, j·S_c + l·D_c − P_c), when inside the map."""
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = kernel, stride, dilation, padding
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    for n in range(N):
        for c in range(C):
            for k in range(kh):
                for l in range(kw):
                    for i in range(Ho):
                        for j in range(Wo):
                            y, z = i * sh + k * dh - ph, j * sw + l * dw - pw
                            if 0 <= y < H and 0 <= z < W:
                                yield n, c, (c * kh + k) * kw + l, i * Wo + j, y, z


def unfold_reference(x, kernel, stride=(1, 1), dilation=(1, 1), padding=(0, 0)):
    """Naive im2col, float64: every window read one cell at a time (zeros outside the input)."""
    x = np.asarray(x, dtype=np.float64)
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = kernel, stride, dilation, padding
    N, C, H, W = x.shape
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, C * kh * kw, Ho * Wo))
    for n, c, r, b, y, z in _window_cells(N, C, H, W, kernel, stride, dilation, padding):
        out[n, r, b] = x[n, c, y, z]
    return out


def fold_reference(col, output_size, kernel, stride=(1, 1), dilation=(1, 1), padding=(0, 0)):
    """Naive col2im, float64: every column value added to its window cell."""
    col = np.asarray(col, dtype=np.float64)
    N, rows = col.shape[:2]
    C = rows // (kernel[0] * kernel[1])
    H, W = output_size
    out = np.zeros((N, C, H, W))
    for n, c, r, b, y, z in _window_cells(N, C, H, W, kernel, stride, dilation, padding):
        out[n, c, y, z] += col[n, r, b]
    return out
