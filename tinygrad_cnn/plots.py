"""Plots of training runs (Matplotlib, an optional extra: never needed to train).

Matplotlib is imported only when a plot is drawn, through its object API and the Agg canvas
(no pyplot, no change to the global backend), so importing this module costs nothing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_history", "INSTALL_HINT"]

#: how to get Matplotlib, from a clone of the repository or from anywhere
INSTALL_HINT = 'pip install -e ".[plot]" (in a clone of the repository) or pip install matplotlib'


def plot_history(history, path=None, title=None):
    """Loss and accuracy curves of a :func:`tinygrad_cnn.train.fit` history, side by side; saved as PNG at ``path``.

    Left panel: training loss (and test loss when present); right panel: training and test
    accuracy, both against the epoch. The format follows the suffix of ``path`` (PNG when it has
    none). Uses Matplotlib's object API with the Agg canvas (no
    pyplot, no change to the global backend). Returns the ``matplotlib.figure.Figure``.
    Needs Matplotlib (:data:`INSTALL_HINT`).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"plot_history needs matplotlib: {INSTALL_HINT}") from exc
    if not hasattr(history, "get") or not history.get("loss"):
        raise ValueError("plot_history: history must be the dict returned by fit, with at least "
                         "one epoch of 'loss'")
    loss = np.asarray(history["loss"], dtype=float)
    epochs = np.asarray(history.get("epoch") or range(1, len(loss) + 1), dtype=float)
    if len(epochs) != len(loss):
        raise ValueError(f"plot_history: {len(epochs)} epochs but {len(loss)} loss values")

    def series(key):
        values = history.get(key)
        if values is None or len(values) != len(loss):
            return None
        values = np.asarray(values, dtype=float)
        return None if np.all(np.isnan(values)) else values

    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    marker = "o" if len(loss) <= 30 else None
    ax_loss.plot(epochs, loss, marker=marker, label="train")
    test_loss = series("test_loss")
    if test_loss is not None:
        ax_loss.plot(epochs, test_loss, marker=marker, label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    for key, label in (("train_acc", "train"), ("test_acc", "test")):
        values = series(key)
        if values is not None:
            ax_acc.plot(epochs, values, marker=marker, label=label)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=100)  # format from the suffix; PNG when there is none
    return fig
