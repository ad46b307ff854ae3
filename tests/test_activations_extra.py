"""PyTorch's other activations (ops/activation_extra.py) against PyTorch: the layers' printing,
forward and backward in float64 (PReLU's weight gradient included), float32 kept float32,
the gradient at every kink, overflow-prone and NaN inputs, argument checks, and a negative
control showing that the comparisons fail for a wrong derivative.

Every backward gets a random upstream gradient (never a sum()), so a gradient that is right
in total but wrong element by element cannot pass.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import GradcheckError, Tensor, explain, gradcheck, nn
from tinygrad_cnn.ops import activation_extra as ext
from helpers import arrays, random_grad

FEW = settings(max_examples=10, deadline=None)

#: PyTorch's CPU hardsigmoid backward multiplies a float64 gradient by the float32 constant
#: 1.0f/6.0f = 0.16666667163…; ours multiplies by 1/6 in the input's dtype (relative 3e-8 away).
HARDSIGMOID_GRAD_RTOL = 1e-7
#: PyTorch's celu backward takes 1/α from α rounded to float32 (its forward does not); ours uses
#: 1/α in float64 in both.  Equal when α is a float32 number (1, 0.5, -1.5), ~1e-7 apart otherwise.
CELU_GRAD_RTOL = 1e-6


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------- the comparison every test uses
def compare(ours, theirs, torch, x, *, params=(), rtol=1e-12, grad_rtol=1e-12, atol=1e-14, seed=0):
    """``ours(x, *params)`` against ``theirs(x, *params)`` (Tensors / torch tensors): the output, then
    the gradient of every input for one random upstream gradient.  Raises AssertionError on a
    mismatch; NaN must sit where PyTorch has NaN."""
    x = np.asarray(x)
    mine = [Tensor(x.copy(), requires_grad=True)] + [Tensor(np.array(p), requires_grad=True) for p in params]
    other = [torch.tensor(x.copy(), requires_grad=True)] + [torch.tensor(np.array(p), requires_grad=True)
                                                            for p in params]
    y, ty = ours(*mine), theirs(*other)
    assert y.dtype == ty.detach().numpy().dtype, f"dtype {y.dtype} != PyTorch's {ty.dtype}"
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True)
    g = random_grad(y.shape, dtype=x.dtype, seed=seed)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    for i, (a, b) in enumerate(zip(mine, other)):
        assert a.grad.dtype == x.dtype, f"gradient {i} is {a.grad.dtype}, input {x.dtype}"
        np.testing.assert_allclose(np.asarray(a.grad), b.grad.numpy(), rtol=grad_rtol, atol=atol, equal_nan=True,
                                   err_msg=f"gradient of input {i}")


# Every new functional op: (name, keyword arguments, the points where f or Ḟ is not smooth).
OPS = [
    ("silu", {}, [0.0]),
    ("relu6", {}, [0.0, 6.0]),
    ("hardtanh", {}, [-1.0, 1.0]),
    ("hardtanh", dict(min_val=-2.0, max_val=0.5), [-2.0, 0.5]),
    ("hardtanh", dict(min_val=0.25, max_val=0.25), [0.25]),
    ("hardtanh", dict(min_val=-0.7, max_val=0.3), [-0.7, 0.3]),
    ("hardsigmoid", {}, [-3.0, 3.0]),
    ("hardswish", {}, [-3.0, 3.0]),
    ("softplus", {}, [20.0]),
    ("softplus", dict(beta=2.0, threshold=5.0), [2.5]),
    ("softplus", dict(beta=-1.0, threshold=20.0), [-20.0]),
    ("softplus", dict(beta=0.5, threshold=1.0), [2.0]),
    ("softplus", dict(beta=0.7, threshold=2.3), [2.3 / 0.7]),
    ("mish", {}, [0.0]),
    ("selu", {}, [0.0]),
    ("celu", {}, [0.0]),
    ("celu", dict(alpha=0.5), [0.0]),
    ("celu", dict(alpha=-1.5), [0.0]),
    ("celu", dict(alpha=0.7), [0.0]),
    ("logsigmoid", {}, [0.0]),
    ("softsign", {}, [0.0]),
    ("threshold", dict(threshold=0.5, value=-3.0), [0.5]),
    ("threshold", dict(threshold=-1.0, value=0.0), [-1.0]),
    ("threshold", dict(threshold=0.3, value=-0.7), [0.3]),
    ("tanhshrink", {}, [0.0]),
    ("softshrink", {}, [-0.5, 0.5]),
    ("softshrink", dict(lambd=0.0), [0.0]),
    ("softshrink", dict(lambd=1.25), [-1.25, 1.25]),
    ("softshrink", dict(lambd=0.3), [-0.3, 0.3]),
    ("hardshrink", {}, [-0.5, 0.5]),
    ("hardshrink", dict(lambd=0.0), [0.0]),
    ("hardshrink", dict(lambd=-0.5), [-0.5, 0.5]),
    ("hardshrink", dict(lambd=0.3), [-0.3, 0.3]),
]
OP_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" if kw else name for name, kw, _ in OPS]


def _pair(torch, name, kw):
    """Our op and PyTorch's, both taking ``(x)`` with the keyword arguments bound."""
    return (lambda x: getattr(F, name)(x, **kw)), (lambda x: getattr(torch.nn.functional, name)(x, **kw))


def _grad_rtol(name, kw=None):
    """1e-12, except where PyTorch rounds a float64 gradient's constant to float32 (see above)."""
    if name == "hardsigmoid":
        return HARDSIGMOID_GRAD_RTOL
    alpha = (kw or {}).get("alpha", 1.0)
    if name == "celu" and float(np.float32(alpha)) != alpha:
        return CELU_GRAD_RTOL
    return 1e-12


# --------------------------------------------------------------- kinks
@pytest.mark.parametrize("name, kw, kinks", OPS, ids=OP_IDS)
def test_kink_points_give_pytorchs_gradient(torch, name, kw, kinks):
    """At each kink exactly (and one float64 step to either side) f and Ḟ are PyTorch's."""
    points = np.array([k + d for k in kinks for d in (0.0, -1e-12, 1e-12)] + [-0.0])
    points = np.concatenate([points, np.nextafter(np.array(kinks), np.inf), np.nextafter(np.array(kinks), -np.inf)])
    ours, theirs = _pair(torch, name, kw)
    compare(ours, theirs, torch, points, grad_rtol=_grad_rtol(name, kw))


KINK_GRADIENTS = [  # (op, kw, x, Ḟ(x)) stated outright: PyTorch's one-sided choices
    ("relu6", {}, [0.0, 6.0, 3.0], [0.0, 0.0, 1.0]),
    ("hardtanh", dict(min_val=-2.0, max_val=0.5), [-2.0, 0.5, 0.0], [0.0, 0.0, 1.0]),
    ("hardsigmoid", {}, [-3.0, 3.0, 0.0], [0.0, 0.0, 1 / 6]),
    ("hardswish", {}, [-3.0, 3.0, 0.0], [0.0, 1.0, 0.5]),
    # βn = threshold still takes the formula e^{βn}/(e^{βn} + 1); just above it, the linear tail's 1
    ("softplus", dict(beta=2.0, threshold=5.0), [2.5, np.nextafter(2.5, 3.0)], [np.exp(5.0) / (np.exp(5.0) + 1), 1.0]),
    ("selu", {}, [0.0], [ext.SELU_ALPHA * ext.SELU_SCALE]),
    ("celu", dict(alpha=2.0), [0.0], [1.0]),
    ("threshold", dict(threshold=0.5, value=-3.0), [0.5, 0.75], [0.0, 1.0]),
    ("softshrink", {}, [-0.5, 0.5, 0.75], [0.0, 0.0, 1.0]),
    ("hardshrink", {}, [-0.5, 0.5, -0.75], [0.0, 0.0, 1.0]),
    ("softsign", {}, [0.0], [1.0]),
    ("logsigmoid", {}, [0.0], [0.5]),
]


@pytest.mark.parametrize("name, kw, x, expected", KINK_GRADIENTS, ids=[k[0] for k in KINK_GRADIENTS])
def test_kink_gradients_are_the_documented_choices(name, kw, x, expected):
    t = Tensor(np.array(x), requires_grad=True)
    g = random_grad(t.shape, seed=3)
    getattr(F, name)(t, **kw).backward(g)
    np.testing.assert_allclose(t.grad, g * np.array(expected), rtol=1e-15, atol=0)


def test_prelu_at_zero_passes_w_times_the_gradient_and_nothing_to_the_weight(torch):
    x = np.array([[0.0, -0.0, 1.0], [-2.0, 0.0, 0.0]])
    w = np.array([0.25, -0.5, 2.0])
    compare(F.prelu, torch.nn.functional.prelu, torch, x, params=(w,))
    xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    g = random_grad(x.shape, seed=1)
    F.prelu(xt, wt).backward(g)
    np.testing.assert_array_equal(xt.grad[x == 0], (g * w)[x == 0])
    np.testing.assert_array_equal(wt.grad, [x[1, 0] * g[1, 0], 0.0, 0.0])


# --------------------------------------------------------------- smooth parts, overflow, NaN
@pytest.mark.parametrize("name, kw, kinks", OPS, ids=OP_IDS)
@FEW
@given(data=st.data())
def test_random_inputs_match_torch_float64(torch, name, kw, kinks, data):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
    x = data.draw(arrays(tuple(shape), low=-12.0, high=12.0))
    ours, theirs = _pair(torch, name, kw)
    compare(ours, theirs, torch, x, grad_rtol=_grad_rtol(name, kw))


EXTREMES = np.array([-1e308, -1000.0, -710.0, -709.0, -50.0, -20.5, -20.0, -1e-300, 0.0, 1e-300, 20.0, 20.5, 50.0,
                     709.0, 710.0, 1000.0, 1e308, np.nan])


@pytest.mark.parametrize("name, kw, kinks", OPS, ids=OP_IDS)
def test_overflow_prone_and_nan_inputs_match_torch(torch, name, kw, kinks):
    """e^{±n} overflows in silu, mish, softplus, logsigmoid, selu and celu: finite inputs give
    PyTorch's values without a warning, and NaN stays NaN; ±inf give PyTorch's results too
    (NaN where PyTorch's formula makes one, numpy may warn about those)."""
    ours, theirs = _pair(torch, name, kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(ours, theirs, torch, EXTREMES, grad_rtol=_grad_rtol(name, kw), atol=1e-15)
    infinities = np.array([-np.inf, np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if name != "softsign":
            compare(ours, theirs, torch, infinities, grad_rtol=_grad_rtol(name, kw))
            return
        # PyTorch's softsign is the composite n/(|n| + 1): NaN at ±inf, its gradient too; ours
        # gives the same NaN value and Ḟ = 1/(1 + |n|)² = 0, the derivative's limit
        t = Tensor(infinities, requires_grad=True)
        y = F.softsign(t)
        assert np.isnan(y.data).all() and np.isnan(theirs(torch.tensor(infinities)).numpy()).all()
        y.backward(np.ones(2))
        np.testing.assert_array_equal(t.grad, [0.0, 0.0])


def test_where_pytorch_rounds_a_float64_constant_to_float32_ours_is_the_exact_derivative(torch):
    """hardsigmoid: Ḟ = 1/6 exactly; celu with α = 0.7: Ḟ = e^{n/α} with α in float64.  PyTorch's
    float64 gradients round those constants to float32 and sit within the tolerances above."""
    x = np.array([-2.0, -0.5, 0.25, 1.5])
    g = random_grad(x.shape, seed=9)
    t = Tensor(x, requires_grad=True)
    F.hardsigmoid(t).backward(g)
    np.testing.assert_array_equal(t.grad, g * (1 / 6))
    t = Tensor(x, requires_grad=True)
    F.celu(t, alpha=0.7).backward(g)
    np.testing.assert_allclose(t.grad, g * np.where(x > 0, 1.0, np.exp(x / 0.7)), rtol=1e-15)
    for name, kw, rtol in (("hardsigmoid", {}, HARDSIGMOID_GRAD_RTOL), ("celu", dict(alpha=0.7), CELU_GRAD_RTOL)):
        ours, theirs = _pair(torch, name, kw)
        compare(ours, theirs, torch, x, grad_rtol=rtol)


def test_tanhshrink_gradient_keeps_its_precision_near_zero():
    """Ḟ = tanh²(n) multiplied out: at n = 1e-8 it is 1e-16 to full precision, where
    1 − (1 − tanh²) keeps only the last bits of the 1 it subtracts from."""
    t = Tensor(np.array([1e-8, -1e-6]), requires_grad=True)
    F.tanhshrink(t).backward(np.ones(2))
    np.testing.assert_allclose(t.grad, np.tanh(t.data) ** 2, rtol=1e-15)


# --------------------------------------------------------------- float32
@pytest.mark.parametrize("name, kw, kinks", OPS, ids=OP_IDS)
def test_float32_stays_float32_and_matches_torch(torch, name, kw, kinks):
    x = np.random.default_rng(5).uniform(-8, 8, (3, 4, 5)).astype(np.float32)
    t = Tensor(x, requires_grad=True)
    y = getattr(F, name)(t, **kw)
    assert y.dtype == np.float32
    y.backward(random_grad(y.shape, dtype=np.float32))
    assert t.grad.dtype == np.float32
    ours, theirs = _pair(torch, name, kw)
    compare(ours, theirs, torch, x, rtol=2e-6, grad_rtol=2e-6, atol=1e-6)


def test_prelu_float32_weight_and_gradient_stay_float32(torch):
    layer = nn.PReLU(3)
    assert layer.weight.dtype == np.float32
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32), requires_grad=True)
    y = layer(x)
    y.backward(random_grad(y.shape, dtype=np.float32))
    assert y.dtype == x.grad.dtype == layer.weight.grad.dtype == np.float32


# --------------------------------------------------------------- layers
REPRS = ["SiLU()", "SiLU(inplace=True)", "ReLU6()", "ReLU6(inplace=True)", "Hardtanh()",
         "Hardtanh(-2, 3.5, True)", "Hardtanh(min_val=0.0, max_val=2)", "Hardsigmoid()", "Hardsigmoid(inplace=True)",
         "Hardswish()", "Hardswish(True)", "Softplus()", "Softplus(beta=2, threshold=5)", "Softplus(0.5)",
         "Mish()", "Mish(inplace=True)", "SELU()", "SELU(inplace=True)", "CELU()", "CELU(0.5, True)", "CELU(alpha=2)",
         "LogSigmoid()", "Softsign()", "Threshold(0.1, 20)", "Threshold(0.1, 20.0, True)", "PReLU()",
         "PReLU(3, 0.1)", "PReLU(num_parameters=4, init=-1)", "Tanhshrink()", "Softshrink()", "Softshrink(1)",
         "Hardshrink()", "Hardshrink(lambd=0.25)"]


@pytest.mark.parametrize("spec", REPRS)
def test_layer_repr_equals_torch(torch, spec):
    assert repr(eval("nn." + spec)) == repr(eval("torch.nn." + spec))


def test_layers_print_inside_a_sequential_like_torch(torch):
    def build(tnn):
        return tnn.Sequential(tnn.Conv2d(3, 4, 3), tnn.PReLU(4), tnn.Hardswish(), tnn.Conv2d(4, 2, 1), tnn.SiLU(),
                              tnn.Softplus(beta=2), tnn.Flatten(), tnn.Mish())

    assert repr(build(nn)).splitlines()[:-1] == repr(build(torch.nn)).splitlines()  # then our parameter count


LAYERS = [("SiLU", ()), ("ReLU6", ()), ("Hardtanh", ()), ("Hardtanh", (-0.5, 2.0)), ("Hardsigmoid", ()),
          ("Hardswish", ()), ("Softplus", ()), ("Softplus", (2.0, 3.0)), ("Mish", ()), ("SELU", ()), ("CELU", ()),
          ("CELU", (0.7,)), ("LogSigmoid", ()), ("Softsign", ()), ("Threshold", (0.3, -1.5)), ("PReLU", ()),
          ("PReLU", (3, 0.1)), ("Tanhshrink", ()), ("Softshrink", ()), ("Softshrink", (1.1,)), ("Hardshrink", ()),
          ("Hardshrink", (0.8,))]


@pytest.mark.parametrize("name, args", LAYERS, ids=[f"{n}{a}" for n, a in LAYERS])
def test_layer_forward_and_backward_equal_torch_float64(torch, name, args):
    ours, theirs = getattr(nn, name)(*args).double(), getattr(torch.nn, name)(*args).double()
    rng = np.random.default_rng(7)
    if name == "PReLU":  # a different weight per channel, the same in both
        w = rng.uniform(-1, 1, ours.weight.shape)
        ours.weight.data[...] = w
        theirs.weight.data = torch.from_numpy(w.copy())
    x = rng.uniform(-7, 7, (2, 3, 4, 5))
    xo, xt = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = random_grad(yo.shape, seed=2)
    yo.backward(g)
    yt.backward(torch.from_numpy(g))
    kw = dict(alpha=args[0]) if name == "CELU" and args else {}
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=_grad_rtol(name.lower(), kw), atol=1e-14)
    their_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(their_params)
    for pname, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, their_params[pname].grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("num_parameters", [1, 3])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5), (2, 3, 4, 5)])
def test_prelu_weight_gradient_equals_torch(torch, num_parameters, shape):
    """One weight shared by every channel, or one per channel (axis 1), for (N, C), (N, C, L), (N, C, H, W)."""
    ours = nn.PReLU(num_parameters).double()
    theirs = torch.nn.PReLU(num_parameters).double()
    w = np.linspace(-0.7, 0.9, num_parameters)
    ours.weight.data[...] = w
    theirs.load_state_dict({"weight": torch.from_numpy(w.copy())})
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    x = np.random.default_rng(11).standard_normal(shape)
    xo, xt = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    g = random_grad(shape, seed=4)
    yo.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert ours.weight.grad.shape == (num_parameters,)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_prelu_state_dict_round_trips_with_torch(torch):
    theirs = torch.nn.PReLU(4, init=0.1).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.1, -0.2, 0.3, 0.4], dtype=torch.float64))
    ours = nn.PReLU(4).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.weight.data, [0.1, -0.2, 0.3, 0.4])
    assert ours.init == 0.25
    ours.reset_parameters()
    np.testing.assert_array_equal(ours.weight.data, np.full(4, 0.25))
    assert [n for n, _ in ours.named_parameters()] == ["weight"]


def test_prelu_gradcheck_in_both_inputs():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, (2, 3, 2, 2))
    x[np.abs(x) < 1e-3] = 0.5
    for w in (rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 1), np.array(0.3)):
        assert gradcheck(F.prelu, [Tensor(x.copy(), requires_grad=True), Tensor(w, requires_grad=True)])


def test_layers_are_modules_with_pytorchs_attributes():
    assert nn.ReLU6().min_val == 0.0 and nn.ReLU6().max_val == 6.0 and isinstance(nn.ReLU6(), nn.Hardtanh)
    assert (nn.Hardtanh(-2, 3).min_val, nn.Hardtanh(-2, 3).max_val) == (-2, 3)
    assert nn.Softplus(beta=2).beta == 2 and nn.Softplus().threshold == 20.0
    assert nn.CELU(0.5).alpha == 0.5 and nn.Threshold(1, 2).value == 2
    assert nn.Softshrink().lambd == 0.5 and nn.Hardshrink(0.3).lambd == 0.3
    assert nn.SiLU(inplace=True).inplace and not nn.Mish().inplace
    p = nn.PReLU(5, init=0.5)
    assert p.num_parameters == 5 and p.init == 0.5 and p.weight.shape == (5,)
    assert [t.shape for t in p.parameters()] == [(5,)]
    for name in ("SiLU", "ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Mish", "SELU", "CELU",
                 "LogSigmoid", "Softsign", "Threshold", "PReLU", "Tanhshrink", "Softshrink", "Hardshrink"):
        assert name in nn.__all__ and isinstance(getattr(nn, name), type)
    for name in ("silu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "softplus", "mish", "selu", "celu",
                 "logsigmoid", "softsign", "threshold", "prelu", "tanhshrink", "softshrink", "hardshrink"):
        assert name in F.__all__ and callable(getattr(F, name))


def test_hardtanh_deprecated_bound_names_warn_like_torch():
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        layer = nn.Hardtanh(min_value=-3.0)
    with pytest.warns(FutureWarning, match="`max_value` is deprecated"):
        layer2 = nn.Hardtanh(max_value=4.0)
    assert (layer.min_val, layer2.max_val) == (-3.0, 4.0)


def test_inplace_is_accepted_and_the_input_is_left_alone():
    x = np.linspace(-4, 4, 9)
    for fn, kw in ((F.silu, {}), (F.relu6, {}), (F.hardtanh, {}), (F.hardsigmoid, {}), (F.hardswish, {}),
                   (F.mish, {}), (F.selu, {}), (F.celu, {}), (F.threshold, dict(threshold=0.0, value=1.0))):
        t = Tensor(x.copy())
        out = fn(t, inplace=True, **kw)
        assert out is not t
        np.testing.assert_array_equal(t.data, x)
    for layer in (nn.SiLU(True), nn.ReLU6(True), nn.Hardtanh(inplace=True), nn.Hardsigmoid(True), nn.Hardswish(True),
                  nn.Mish(True), nn.SELU(True), nn.CELU(inplace=True), nn.Threshold(0.0, 1.0, True)):
        t = Tensor(x.copy())
        layer(t)
        np.testing.assert_array_equal(t.data, x)


# --------------------------------------------------------------- bad arguments of the layers
@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: nn.Hardtanh(1.0, 1.0), ValueError, r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"),
    (lambda: nn.Hardtanh(2.0, -1.0), ValueError, "must be greater than min_val"),
    (lambda: nn.Hardtanh("a"), TypeError, "Hardtanh: min_val must be a real number"),
    (lambda: nn.ReLU6(inplace="yes"), TypeError, "ReLU6: inplace must be True or False"),
    (lambda: nn.SiLU(1), TypeError, "SiLU: inplace must be True or False"),
    (lambda: nn.Softplus(beta=0), ValueError, "Softplus: beta must be nonzero"),
    (lambda: nn.Softplus(threshold=None), TypeError, "Softplus: threshold must be a real number"),
    (lambda: nn.CELU(0.0), ValueError, "CELU: alpha must be nonzero"),
    (lambda: nn.Threshold(0.5), TypeError, "missing 1 required positional argument: 'value'"),
    (lambda: nn.Threshold(float("nan"), 0.0), ValueError, "Threshold: threshold must be a finite number"),
    (lambda: nn.Softshrink(-1.0), ValueError, r"Softshrink: lambd must lie in \[0, inf\)"),
    (lambda: nn.Hardshrink("0.5"), TypeError, "Hardshrink: lambd must be a real number"),
    (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters must be >= 1"),
    (lambda: nn.PReLU(2.0), TypeError, "PReLU: num_parameters must be an int"),
    (lambda: nn.PReLU(init="a"), TypeError, "PReLU: init must be a real number"),
    (lambda: nn.PReLU(dtype="int64"), TypeError, "PReLU: dtype must be float32 or float64"),
    (lambda: nn.PReLU(3)(Tensor(np.zeros((2, 4, 5), np.float32))), ValueError,
     r"prelu: weight must have 1 entry or 4 \(one per channel, axis 1\) for input \(2, 4, 5\), got shape \(3,\)"),
    (lambda: nn.PReLU(3)(Tensor(np.zeros((2, 3)))), TypeError, "prelu: input is float64 but weight is float32"),
])
def test_layer_arguments_are_checked(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


# --------------------------------------------------------------- explain
def test_explain_states_the_new_rules_with_shapes():
    x = Tensor(np.linspace(-2, 2, 24).reshape(2, 3, 4), requires_grad=True)
    layer = nn.PReLU(3).double()
    y = F.hardswish(F.softplus(layer(x), beta=2.0))
    lines = explain((y * Tensor(random_grad(y.shape))).sum())
    shape = "(2, 3, 4)"
    assert f"hardswish: dN {shape} = Ḟ ∘ dA {shape}, Ḟ = 0 where n ≤ −3, n/3 + ½ where −3 < n < 3, else 1" in lines
    assert f"softplus: dN {shape} = Ḟ ∘ dA {shape}, Ḟ = e^{{βn}}/(e^{{βn}} + 1) where βn ≤ threshold, else 1" in lines
    assert "prelu: dN (2, 3, 4) = Ḟ ∘ dA (2, 3, 4), Ḟ = 1 where n > 0, else w" in lines
    assert "prelu: dw (3,) = Σ dA (2, 3, 4) ∘ n where n ≤ 0, per channel" in lines


# --------------------------------------------------------------- negative controls
class _HardswishOtherSides(ext.Hardswish):
    """hardswish with the other one-sided derivative at both kinks (½ − 1 = −½ at −3, 3/3 + ½ at 3)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x < -3, 0.0, np.where(x <= 3, grad * (x / 3 + 0.5), grad))


class _SiluWithoutTheSecondTerm(ext.Silu):
    """silu with Ḟ = σ(n): the n·σ(n)(1 − σ(n)) term forgotten."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.exp(-x))


def test_the_comparison_catches_a_wrong_kink_choice(torch):
    """At the kinks only: gradcheck (kept off the kinks) cannot see it, the kink test does."""
    kinks = np.array([-3.0, 3.0, 0.0])
    compare(F.hardswish, torch.nn.functional.hardswish, torch, kinks)  # the real op passes
    with pytest.raises(AssertionError, match="gradient of input 0"):
        compare(_HardswishOtherSides.apply, torch.nn.functional.hardswish, torch, kinks)
    off = np.array([-3.5, -1.0, 0.5, 2.9, 4.0])
    assert gradcheck(_HardswishOtherSides.apply, [Tensor(off, requires_grad=True)])


def test_the_comparison_and_gradcheck_catch_a_wrong_derivative(torch):
    x = np.linspace(-3, 3, 7)
    compare(F.silu, torch.nn.functional.silu, torch, x)
    with pytest.raises(AssertionError, match="gradient of input 0"):
        compare(_SiluWithoutTheSecondTerm.apply, torch.nn.functional.silu, torch, x)
    with pytest.raises(GradcheckError):
        gradcheck(_SiluWithoutTheSecondTerm.apply, [Tensor(x, requires_grad=True)])


def test_the_comparison_catches_a_wrong_weight_gradient(torch):
    class _PreluWeightGradSummedOverChannels(ext.Prelu):
        @staticmethod
        def backward(ctx, grad):
            gx, gw = ext.Prelu.backward(ctx, grad)
            return gx, np.full_like(gw, gw.sum())

    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    w = np.array([0.1, 0.2, 0.3])
    compare(F.prelu, torch.nn.functional.prelu, torch, x, params=(w,))
    with pytest.raises(AssertionError, match="gradient of input 1"):
        compare(_PreluWeightGradSummedOverChannels.apply, torch.nn.functional.prelu, torch, x, params=(w,))
