"""The book's worked inputs: figure images, kernels and LeNet-5's C3 connection table.

Hagan & Jafari, *Neural Network Design: Deep Learning*, ch. 8 draws a Square and
a Diamond (15×15, 1 = white), filters them with four 3×3 kernels and pools the
results; its "Example convolution" convolves a 5×5 diamond with a 2×2 kernel.
LeCun et al. (1998), Table I, connects LeNet-5's 16 C3 maps to the 6 S2 maps.
The notebooks, the tests and the benchmark draw on these.
"""
import numpy as np

__all__ = ["square", "diamond", "small_diamond", "FIGURE_KERNELS", "EXAMPLE_KERNEL", "EXAMPLE_Z", "LENET_C3_TABLE"]



def square():
    """Figure "Square": 15×15, ones on the border of the 9×9 block of rows and
    columns 3..11, zeros elsewhere (1 = white)."""
    s = np.zeros((15, 15))
    s[3:12, 3:12] = 1.0
    s[4:11, 4:11] = 0.0
    return s


def diamond():
    """Figure "Diamond": 15×15, ones where |i - 7| + |j - 7| = 4."""
    d = np.zeros((15, 15))
    for i in range(15):
        for j in range(15):
            if abs(i - 7) + abs(j - 7) == 4:
                d[i, j] = 1.0
    return d


def small_diamond():
    """The 5×5 diamond of the lecture's "Example convolution"."""
    return np.array(
        [[0, 0, 1, 0, 0],
         [0, 1, 0, 1, 0],
         [1, 0, 0, 0, 1],
         [0, 1, 0, 1, 0],
         [0, 0, 1, 0, 0]], dtype=np.float64)


#: The four 3×3 kernels of the figures (names as the book draws them).
FIGURE_KERNELS = {
    "horizontal": np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0]], dtype=np.float64),
    "vertical": np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float64),
    "slash": np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64),
    "backslash": np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=np.float64),
}

#: The 2×2 anti-diagonal kernel of the lecture's "Example convolution".
EXAMPLE_KERNEL = np.array([[0, 1], [1, 0]], dtype=np.float64)

#: Its output Z = EXAMPLE_KERNEL ⊛ small_diamond() as printed in the lecture.
EXAMPLE_Z = np.array(
    [[0, 2, 0, 1],
     [2, 0, 1, 0],
     [0, 1, 0, 2],
     [1, 0, 2, 0]], dtype=np.float64)

#: LeNet-5's C3 connection matrix (LeCun et al. 1998, Table I): rows are the
#: 16 C3 maps, columns the 6 S2 maps, 1 = connected (60 connections).
LENET_C3_TABLE = np.array(
    [[1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1],
     [1, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 1],
     [1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1], [1, 0, 0, 1, 1, 1],
     [1, 1, 0, 0, 1, 1], [1, 1, 1, 0, 0, 1],
     [1, 1, 0, 1, 1, 0], [0, 1, 1, 0, 1, 1], [1, 0, 1, 1, 0, 1],
     [1, 1, 1, 1, 1, 1]], dtype=np.uint8)
LENET_C3_TABLE.flags.writeable = False  # shared by models and benchmarks: nobody edits it by accident
