"""The autograd engine and the op boundary hold against hostile input.

A gradient of the wrong shape reaching a compiled backward used to read and
write out of bounds (a segfault); those cases run each in a fresh interpreter
and must end with a clean Python exception, never a signal.  The rest run here:
NaN routing through max and relu, np.matrix, complex and string gradients,
float widths and byte orders, and the size bounds of conv/pool arguments.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_cnn.functional as F
from tinygrad_cnn import Function, Tensor, _checks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional oracle
    torch = None


# --------------------------------------------------------------- fresh-process cases
def run_fresh(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter that imports this checkout of tinygrad_cnn."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    prelude = "import numpy as np\nimport tinygrad_cnn.functional as F\nfrom tinygrad_cnn import Function, Tensor\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )


def assert_clean_error(proc: subprocess.CompletedProcess, exc: str, pattern: str) -> None:
    """Exited by an uncaught ``exc`` whose message matches ``pattern``; killed by no signal."""
    import re

    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr[-2000:]}"
    assert proc.returncode == 1, f"exit {proc.returncode}\nstdout {proc.stdout}\nstderr {proc.stderr[-2000:]}"
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{exc}: "), proc.stderr[-2000:]
    assert re.search(pattern, last), last


def test_fresh_process_harness_sees_signals_and_success():
    # negative controls: the harness must tell a crash from a clean exit
    crashed = run_fresh("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert crashed.returncode < 0
    with pytest.raises(AssertionError, match="signal"):
        assert_clean_error(crashed, "RuntimeError", "")
    ok = run_fresh("""
        x = Tensor(np.random.rand(1, 1, 8, 8), requires_grad=True)
        y = F.conv2d(x, Tensor(np.random.rand(1, 1, 3, 3)))
        y.backward(np.ones(y.shape)); print(x.grad.shape)
    """)
    assert ok.returncode == 0 and ok.stdout.strip() == "(1, 1, 8, 8)", ok.stderr


REPLACED_OUTPUT = {
    "conv2d direct": ("F.conv2d(x, Tensor(np.random.rand(2, 1, 3, 3), requires_grad=True))", "Conv2d", r"\(1, 2, 6, 6\)"),
    # C·kh·kw = 16·3·3 >= 128 and dense: the im2col + GEMM path
    "conv2d gemm": ("F.conv2d(Tensor(np.random.rand(1, 16, 8, 8), requires_grad=True), "
                    "Tensor(np.random.rand(2, 16, 3, 3), requires_grad=True))", "Conv2d", r"\(1, 2, 6, 6\)"),
    "avg_pool2d": ("F.avg_pool2d(x, 2)", "AvgPool2d", r"\(1, 1, 4, 4\)"),
    "avg_pool2d weighted": ("F.avg_pool2d(x, 2, weight=Tensor(np.ones(1), requires_grad=True))",
                            "WeightedAvgPool2d", r"\(1, 1, 4, 4\)"),
    "max_pool2d": ("F.max_pool2d(x, 2)", "MaxPool2d", r"\(1, 1, 4, 4\)"),
}


@pytest.mark.parametrize("case", sorted(REPLACED_OUTPUT))
def test_replaced_output_data_cannot_reach_a_kernel(case):
    make, op, out_shape = REPLACED_OUTPUT[case]
    proc = run_fresh(f"""
        x = Tensor(np.random.rand(1, 1, 8, 8), requires_grad=True)
        y = {make}
        y.data = np.ones((1, 1, 200000, 6))
        y.backward(np.ones(y.shape))
    """)
    assert_clean_error(proc, "RuntimeError", rf"{op}\.backward.*\(1, 1, 200000, 6\).*{out_shape}")


def test_custom_backward_returning_a_larger_gradient_stops_before_conv():
    proc = run_fresh("""
        class Grow(Function):
            @staticmethod
            def forward(ctx, a):
                return a.copy()

            @staticmethod
            def backward(ctx, grad):
                return np.ones((1, 1, 300000, 6))

        x = Tensor(np.random.rand(1, 1, 8, 8), requires_grad=True)
        y = Grow.apply(F.conv2d(x, Tensor(np.random.rand(1, 1, 3, 3), requires_grad=True)))
        y.backward(np.ones(y.shape))
    """)
    assert_clean_error(proc, "RuntimeError", r"Grow\.backward.*\(1, 1, 300000, 6\).*input 0.*\(1, 1, 6, 6\)")


@pytest.mark.parametrize("call", [
    "F.conv2d(x, Tensor(np.ones((1, 1, 3, 3), np.float32)), stride=2**63)",
    "F.max_pool2d(x, 2, stride=2**63)",
    "F.avg_pool2d(x, 2, stride=2**63)",
])
def test_huge_stride_as_first_call_is_refused(call):
    proc = run_fresh(f"""
        x = Tensor(np.ones((1, 1, 8, 8), np.float32))
        print({call}.shape)
    """)
    assert_clean_error(proc, "ValueError", r"stride must be <= \d+.*9223372036854775808.*\(1, 1, 8, 8\)")


# --------------------------------------------------------------- the engine's checks, in process
class Grow(Function):
    """Identity whose backward returns whatever the test asks for."""

    result = None

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return Grow.result(grad)


def grow_backward(result, x=None):
    Grow.result = staticmethod(result)
    x = Tensor(np.arange(3.0), requires_grad=True) if x is None else x
    Grow.apply(x).backward(np.ones(x.shape))
    return x


@pytest.mark.parametrize("result, pattern", [
    (lambda g: np.ones(4), r"Grow\.backward returned a gradient of shape \(4,\) for input 0, which has shape \(3,\)"),
    (lambda g: np.ones((3, 1)), r"shape \(3, 1\) for input 0.*\(3,\)"),
    (lambda g: np.ones(3, np.int64), r"dtype int64 for input 0"),
    (lambda g: g.astype(np.complex128), r"dtype complex128 for input 0"),
    (lambda g: np.array(["a", "b", "c"]), r"dtype <U1 for input 0"),
    (lambda g: [1.0, 1.0, 1.0], r"returned a list for input 0"),
    (lambda g: (), r"returned 0 gradient\(s\) for 1 input"),
    (lambda g: (g, g), r"returned 2 gradients for 1 input"),
])
def test_custom_backward_returning_a_wrong_gradient(result, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        grow_backward(result)


def test_custom_backward_returning_good_gradients():
    # negative controls for the checks above: these must pass, and be exact
    x = grow_backward(lambda g: 2 * g)
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    x = grow_backward(lambda g: Tensor(3 * g))  # a Tensor is unwrapped
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])
    x = grow_backward(lambda g: (g, None))  # extra Nones are allowed
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])
    x = grow_backward(lambda g: g.astype(np.float32))  # another float width is cast back
    assert x.grad.dtype == np.float64
    x = grow_backward(lambda g: g.astype(">f8") * 5)  # so is a byte-swapped float
    assert x.grad.dtype == np.float64 and x.grad.dtype.isnative
    np.testing.assert_array_equal(x.grad, [5.0, 5.0, 5.0])


def test_zero_dim_backward_may_return_a_numpy_scalar():
    x = Tensor(np.array(2.0), requires_grad=True)
    grow_backward(lambda g: g * np.float64(4.0) + 0, x)  # a 0-d product is a numpy scalar
    assert x.grad.shape == () and x.grad == 4.0


def test_replaced_output_data_is_caught_before_a_numpy_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x.tanh()
    y.data = np.ones(5)
    with pytest.raises(RuntimeError, match=r"Tanh\.backward.*shape \(5,\).*output had shape \(3,\)"):
        y.backward(np.ones(5))


def test_replaced_leaf_data_is_caught():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    x.data = np.ones(4)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(4,\)"):
        y.backward(np.ones(3))


class ScaleBy(Function):
    @staticmethod
    def forward(ctx, a, factor):
        ctx.factor = factor
        return a * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


def test_non_tensor_arguments_are_constants():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    factor = np.array([3.0, 4.0])
    y = ScaleBy.apply(x, factor)  # the array itself reaches forward, not its .data buffer
    np.testing.assert_array_equal(y.data, [3.0, -8.0])
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 40.0])
    z = ScaleBy.apply(x, 2.5)
    assert z.requires_grad and z._ctx.needs_input_grad == (True, False)
    w = ScaleBy.apply(Tensor(np.ones(2)), 2.5)  # constants alone record no graph
    assert not w.requires_grad


def test_gradient_for_a_constant_argument_is_refused():
    class Leaky(ScaleBy):
        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, grad

    with pytest.raises(RuntimeError, match=r"Leaky\.backward returned a gradient for input 1.*not a Tensor"):
        Leaky.apply(Tensor(np.ones(2), requires_grad=True), 2.0).backward(np.ones(2))


def test_forward_results():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return [1.0, 2.0]

    with pytest.raises(TypeError, match=r"Bad\.forward must return a numpy array, got list"):
        Bad.apply(Tensor(np.ones(2), requires_grad=True))

    class Total(Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()  # a numpy scalar, not an ndarray

        @staticmethod
        def backward(ctx, grad):
            return np.full(2, grad * 7)

    x = Tensor(np.ones(2), requires_grad=True)
    y = Total.apply(x)
    assert type(y.data) is np.ndarray and y.shape == ()
    y.backward()
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])

    class Indices(Function):
        @staticmethod
        def forward(ctx, a):
            return np.argsort(a)

    assert not Indices.apply(x).requires_grad  # integer outputs are not differentiable


# --------------------------------------------------------------- the grad passed to backward()
def test_complex_grad_is_refused():
    y = Tensor(np.ones(2), requires_grad=True) * 2.0
    with pytest.raises(TypeError, match=r"grad.*complex128.*\(2,\).*imaginary"):
        y.backward(np.array([1 + 2j, 3 + 0j]))


def test_string_grad_is_refused():
    y = Tensor(np.ones(1), requires_grad=True) * 2.0
    with pytest.raises(TypeError, match=r"grad.*dtype <U1.*shape \(1,\)"):
        y.backward(np.array(["a"]))


def test_integer_and_tensor_grads_still_work():
    x = Tensor(np.ones(2), requires_grad=True)
    (x * 2.0).backward(np.array([1, 3]))
    np.testing.assert_array_equal(x.grad, [2.0, 6.0])
    x.grad = None
    (x * 2.0).backward(Tensor(np.array([0.5, 1.0])))
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


# --------------------------------------------------------------- NaN through max and relu
@pytest.mark.parametrize("values, expected", [
    ([1.0, np.nan, 3.0], [0.0, 1.0, 0.0]),
    ([np.nan, 2.0, np.nan], [0.5, 0.0, 0.5]),
    ([1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),  # control: ordinary ties still split evenly
])
def test_max_routes_the_gradient_to_nan(values, expected):
    x = Tensor(np.array(values), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, expected)
    if torch is not None:
        t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
        t.max().backward()
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_max_over_an_axis_with_nan_rows():
    x = Tensor(np.array([[1.0, np.nan, 4.0], [2.0, 5.0, 5.0], [np.nan, 0.0, np.nan]]), requires_grad=True)
    up = np.array([3.0, 7.0, 11.0])
    x.max(axis=1).backward(up)
    np.testing.assert_array_equal(x.grad, [[0, 3, 0], [0, 3.5, 3.5], [5.5, 0, 5.5]])


def test_relu_passes_the_gradient_at_nan():
    n = np.array([np.nan, -1.0, 0.0, 2.0, np.nan], np.float32)
    up = np.array([5.0, -3.0, 7.0, 11.0, -2.0], np.float32)
    x = Tensor(n, requires_grad=True)
    x.relu().backward(up)
    np.testing.assert_array_equal(x.grad, [5.0, 0.0, 0.0, 11.0, -2.0])
    assert x.grad.dtype == np.float32
    if torch is not None:
        t = torch.tensor(n, requires_grad=True)
        torch.relu(t).backward(torch.tensor(up))
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


# --------------------------------------------------------------- what Tensor() stores
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_np_matrix_operands_multiply_elementwise():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[5.0, 6.0], [7.0, 8.0]])
    assert not np.array_equal(np.asarray(np.matrix(a) * np.matrix(b)), a * b)  # control: matrix * is a product
    t = Tensor(np.matrix(a)) * Tensor(np.matrix(b))
    np.testing.assert_array_equal(t.data, a * b)
    assert type(t.data) is np.ndarray
    np.testing.assert_array_equal((Tensor(a) * np.matrix(b)).data, a * b)
    np.testing.assert_array_equal((Tensor(a) @ Tensor(np.matrix(b))).data, a @ b)


def test_masked_array_is_refused():
    with pytest.raises(TypeError, match="mask"):
        Tensor(np.ma.masked_array([1.0, 2.0], mask=[0, 1]))


@pytest.mark.parametrize("dtype, stored", [
    (np.float16, np.float32),
    (np.dtype(">f4"), np.float32),
    (np.dtype(">f8"), np.float64),
    (np.longdouble, np.float64),
    (np.float32, np.float32),
    (np.float64, np.float64),
])
def test_float_widths_and_byte_orders_become_native_float32_or_float64(dtype, stored):
    values = np.array([[0.5, -1.25], [3.0, 1e3]]).astype(dtype)
    t = Tensor(values, requires_grad=True)
    assert t.dtype == np.dtype(stored) and t.dtype.isnative
    np.testing.assert_array_equal(t.data, values.astype(np.float64))
    F.relu(t).sum().backward()  # reaches the ops without a dispatcher error
    assert t.grad.dtype == np.dtype(stored)
    assert Tensor(values[0, 0]).dtype == np.dtype(stored)  # numpy scalars follow the same rule


def test_big_endian_labels_become_native():
    t = Tensor(np.array([0, 2, 1], dtype=">i8"))
    assert t.dtype == np.int64 and t.dtype.isnative


ODD_DTYPES = [np.float16, np.dtype(">f4"), np.dtype(">f8"), np.longdouble, np.int32]
FUNCTIONAL = {
    "relu": lambda x: F.relu(x),
    "tanh": lambda x: F.tanh(x),
    "sigmoid": lambda x: F.sigmoid(x),
    "softmax": lambda x: F.softmax(x),
    "log_softmax": lambda x: F.log_softmax(x),
    "rot180": lambda x: F.rot180(x),
    "conv2d x": lambda x: F.conv2d(x, Tensor(np.ones((1, 1, 2, 2)))),
    "conv2d weight": lambda x: F.conv2d(Tensor(np.ones((1, 1, 4, 4))), x[:, :, :2, :2]),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
    "mse_loss": lambda x: F.mse_loss(x, np.zeros(x.shape)),
    "cross_entropy": lambda x: F.cross_entropy(x.reshape(4, 4), np.zeros(4, np.int64)),
}


@pytest.mark.parametrize("dtype", ODD_DTYPES, ids=str)
@pytest.mark.parametrize("op", sorted(FUNCTIONAL))
def test_functional_ops_refuse_data_that_is_not_native_float(op, dtype):
    x = Tensor(np.ones((1, 1, 4, 4)))
    x.data = np.ones((1, 1, 4, 4), dtype)  # bypasses the constructor's conversion
    if op == "conv2d weight":
        x.data = x.data.astype(dtype)
    with pytest.raises(TypeError, match=r"must be float32 or float64"):
        FUNCTIONAL[op](x)


@pytest.mark.parametrize("op", sorted(FUNCTIONAL))
def test_functional_ops_accept_native_float(op):
    FUNCTIONAL[op](Tensor(np.ones((1, 1, 4, 4))))  # control for the test above


# --------------------------------------------------------------- sizes of conv/pool calls
X = Tensor(np.zeros((2, 3, 8, 8), np.float32))
W = Tensor(np.zeros((4, 3, 3, 3), np.float32))


def test_huge_padding_is_refused_by_name():
    with pytest.raises(ValueError, match=r"conv2d: padding .*1000000.*\(2, 3, 2000008, 2000008\).*\(2, 3, 8, 8\)"):
        F.conv2d(X, W, padding=10**6)
    with pytest.raises(ValueError, match=r"conv2d: padding must be <= 1048576"):
        F.conv2d(X, W, padding=(0, 2**63))


def test_huge_stride_is_refused_in_process():
    for call in (lambda: F.conv2d(X, W, stride=(1, 2**40)), lambda: F.max_pool2d(X, 2, stride=2**21),
                 lambda: F.avg_pool2d(X, 2, stride=(2**63, 1))):
        with pytest.raises(ValueError, match=r"stride must be <= 1048576.*\(2, 3, 8, 8\)"):
            call()
    # control: the largest allowed stride still works and gives one window per axis
    assert F.conv2d(X, W, stride=_checks.MAX_EXTENT).shape == (2, 4, 1, 1)


def test_window_geometry_element_bounds():
    g = _checks.window_geometry
    g("conv2d", (1, 1, 2**15, 2**16), (1, 1), (1, 1))  # exactly MAX_ELEMENTS outputs: allowed
    with pytest.raises(ValueError, match=r"output \(1, 1, 32768, 65537\)"):
        g("conv2d", (1, 1, 2**15, 2**16 + 1), (1, 1), (1, 1))
    with pytest.raises(ValueError, match=r"output \(1, 100000, 200, 200\).*kernel \(1, 1\)"):
        g("conv2d", (1, 1, 200, 200), (1, 1), (1, 1), out_channels=100_000, kernel_name="kernel")
    with pytest.raises(ValueError, match=r"padding \(0, 0, 1, 0\).*padded input \(1, 1, 32768, 65537\)"):
        g("conv2d", (1, 1, 2**15, 2**16), (2, 2), (2, 2), (0, 0, 1, 0))
    with pytest.raises(ValueError, match=r"dilation must be <= 1048576"):
        g("conv2d", (1, 1, 8, 8), (2, 2), (1, 1), dilation=(1, 2**21))
    g("max_pool2d", (64, 16, 28, 28), (2, 2), (2, 2))  # control: LeNet-sized calls pass
