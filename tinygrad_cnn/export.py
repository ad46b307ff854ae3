"""Moving models to and from PyTorch, and out to ONNX.

``to_torch(module)`` builds an equivalent ``torch.nn.Module`` with the same
weights and outputs; ``from_torch(torch_module)`` goes the other way for a
``torch.nn.Sequential``; ``to_onnx(module, example_input, path)`` writes an
ONNX model (batch axis dynamic) that onnxruntime runs.

Supported layers: ``Conv2d`` (with or without a connection matrix),
``MaxPool2d`` and ``AvgPool2d`` (the mean with PyTorch's padding, dilation,
ceil_mode, count_include_pad, divisor_override and return_indices, or the
lecture's trainable w·Σ form), ``Subsampling``, ``AdaptiveAvgPool2d``,
``AdaptiveMaxPool2d``, ``Vec``, ``Flatten``, ``Identity``, ``Dropout``,
``Dropout2d``, ``BatchNorm1d``/``BatchNorm2d`` (running statistics and
``num_batches_tracked`` included), ``Linear``, ``ReLU``, ``Tanh``, ``Sigmoid``,
``LeakyReLU``, ``ELU``, ``GELU``, ``Softmax``, ``LogSoftmax``, ``ScaledTanh``,
nested ``Sequential``, and ``models.LeNet5``.  Two lecture
ideas that PyTorch lacks travel as small modules (``tinygrad_cnn._torch_layers``):

* the connection matrix C^m becomes a fixed mask buffer multiplied into the
  weight on every forward, so unconnected kernels get exactly zero gradient
  when the PyTorch model trains, as they do here;
* vec stacks the COLUMNS of each map, so it becomes a transpose of the last two
  axes before flattening.  ``torch.nn.Flatten`` stacks rows; ``from_torch``
  maps it to a row-major reshape, never to ``Vec``.

Every layer goes with its options as its forward uses them now (a replaced weight, a
changed padding) and with its own train/eval mode.  What the other side cannot express
is refused with a ``TypeError`` naming the layer, never dropped: ONNX has no
``divisor_override`` and no pooling indices.

torch (for ``to_torch``/``from_torch``) and onnx (for ``to_onnx``) are
optional: install the ``export`` extra.  ``to_onnx`` builds the ONNX graph
directly from the layers and does not need torch.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from . import nn
from .models import LeNet5
from .tensor import Tensor, no_grad

__all__ = ["to_torch", "from_torch", "to_onnx"]

_SUPPORTED = ("Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Subsampling, AdaptiveAvgPool2d, AdaptiveMaxPool2d, Vec, "
              "Flatten, Identity, Dropout, Dropout2d, BatchNorm1d, BatchNorm2d, Linear, ReLU, Tanh, Sigmoid, "
              "LeakyReLU, ELU, GELU, SiLU, ReLU6, Hardtanh, Hardsigmoid, Hardswish, Softplus, Mish, SELU, CELU, "
              "LogSigmoid, Softsign, Threshold, Tanhshrink, Softshrink, Hardshrink, PReLU, Softmax, LogSoftmax, "
              "ScaledTanh, Conv1d, ConvTranspose1d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, "
              "InstanceNorm1d, InstanceNorm2d, LocalResponseNorm, Embedding, Upsample, UpsamplingNearest2d, "
              "UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle, ChannelShuffle, Unfold, Fold, Softmin, Softmax2d, "
              "GLU, Dropout1d, Dropout3d, "
              "ReflectionPad/ReplicationPad/CircularPad/ZeroPad/ConstantPad 1d/2d/3d, "
              "Sequential and models.LeNet5")


def _simple_layers(torch):
    """(our class, PyTorch's class, the constructor arguments both share), both directions.

    Layers with no weights whose constructor arguments are attributes of the same name on
    either side; ``type(...) is`` matches them, so a subclass never passes as its base.
    """
    tnn = torch.nn
    return ((nn.ReLU, tnn.ReLU, ()), (nn.Tanh, tnn.Tanh, ()), (nn.Sigmoid, tnn.Sigmoid, ()),
            (nn.Identity, tnn.Identity, ()), (nn.Dropout, tnn.Dropout, ("p",)),
            (nn.Dropout2d, tnn.Dropout2d, ("p",)), (nn.Flatten, tnn.Flatten, ("start_dim", "end_dim")),
            (nn.LeakyReLU, tnn.LeakyReLU, ("negative_slope",)), (nn.ELU, tnn.ELU, ("alpha",)),
            (nn.GELU, tnn.GELU, ("approximate",)), (nn.Softmax, tnn.Softmax, ("dim",)),
            (nn.LogSoftmax, tnn.LogSoftmax, ("dim",)),
            (nn.AdaptiveAvgPool2d, tnn.AdaptiveAvgPool2d, ("output_size",)),
            (nn.AdaptiveMaxPool2d, tnn.AdaptiveMaxPool2d, ("output_size", "return_indices")),
            *((getattr(nn, name), getattr(tnn, name), ("padding", "value") if name.startswith("Constant")
               else ("padding",)) for name in nn.padding.__all__ if hasattr(tnn, name)),
            *((getattr(nn, name), getattr(tnn, name), args) for name, args in _MORE_ACTIVATIONS + _MORE_SIMPLE
              if hasattr(tnn, name)))


#: activation layers without weights and the constructor arguments they share with PyTorch's
_MORE_ACTIVATIONS = (("SiLU", ()), ("ReLU6", ()), ("Hardtanh", ("min_val", "max_val")), ("Hardsigmoid", ()),
                     ("Hardswish", ()), ("Softplus", ("beta", "threshold")), ("Mish", ()), ("SELU", ()),
                     ("CELU", ("alpha",)), ("LogSigmoid", ()), ("Softsign", ()), ("Threshold", ("threshold", "value")),
                     ("Tanhshrink", ()), ("Softshrink", ("lambd",)), ("Hardshrink", ("lambd",)))

#: the other layers without weights and the constructor arguments they share with PyTorch's
_MORE_SIMPLE = (("Dropout1d", ("p",)), ("Dropout3d", ("p",)), ("Softmin", ("dim",)), ("Softmax2d", ()),
                ("GLU", ("dim",)), ("ChannelShuffle", ("groups",)), ("PixelShuffle", ("upscale_factor",)),
                ("PixelUnshuffle", ("downscale_factor",)), ("LocalResponseNorm", ("size", "alpha", "beta", "k")),
                ("MaxPool1d", ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")),
                ("AvgPool1d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")),
                ("AdaptiveAvgPool1d", ("output_size",)), ("AdaptiveMaxPool1d", ("output_size", "return_indices")),
                ("Upsample", ("size", "scale_factor", "mode", "align_corners")),
                ("UpsamplingNearest2d", ("size", "scale_factor")), ("UpsamplingBilinear2d", ("size", "scale_factor")),
                ("Unfold", ("kernel_size", "dilation", "padding", "stride")),
                ("Fold", ("output_size", "kernel_size", "dilation", "padding", "stride")))


def _batch_norm_arrays(layer) -> dict:
    """The state of a batch-norm layer (ours or PyTorch's) as numpy arrays, by PyTorch's names."""
    out = {}
    for key in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        value = getattr(layer, key, None)
        if value is not None:
            out[key] = np.array(value.data if isinstance(value, Tensor) else value.detach().cpu().numpy(), copy=True)
    return out


def _import_torch():
    try:
        import torch

        from . import _torch_layers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("export.to_torch/from_torch need PyTorch: pip install torch "
                          "(or pip install 'tinygrad-cnn[export]')") from exc
    return torch, _torch_layers


# --------------------------------------------------------------- our model as a layer list
def _layers(module, prefix=""):
    """(dotted name, layer) in the order the forward pass applies them."""
    if isinstance(module, LeNet5):
        m = module
        return [("c1", m.c1), ("s2", m.s2), ("squash2", m.squash), ("c3", m.c3), ("s4", m.s4),
                ("squash4", m.squash), ("c5", m.c5), ("squash5", m.squash), ("vec", nn.Vec()),
                ("f6", m.f6), ("squash6", m.squash), ("output", m.output)]
    if isinstance(module, nn.Sequential):
        out = []
        for i, layer in enumerate(module):
            name = f"{prefix}{i}"
            out.extend(_layers(layer, name + ".") if isinstance(layer, (nn.Sequential, LeNet5)) else [(name, layer)])
        return out
    return [(prefix.rstrip(".") or type(module).__name__, module)]


def _unsupported(where: str, name: str, layer) -> TypeError:
    return TypeError(f"{where}: layer {name!r} of type {type(layer).__name__} is not supported; "
                     f"supported layers: {_SUPPORTED}")


def _conv_geometry(layer) -> tuple:
    """(stride, (top, bottom, left, right) zero padding, dilation, groups) of an ``nn.Conv2d``,
    exactly as its forward computes them (from its current attributes and weight)."""
    stride, pad, dilation, groups, _ = layer._layout(layer.weight.data.shape)
    return stride, pad, dilation, groups


# --------------------------------------------------------------- to PyTorch
def _torch_layer(torch, TL, name, layer):
    def param(arr):
        return torch.nn.Parameter(torch.from_numpy(np.array(arr, copy=True)))

    if isinstance(layer, nn.Conv2d):
        dtype = torch.from_numpy(layer.weight.data[:0]).dtype
        stride, (top, bottom, left, right), dilation, groups = _conv_geometry(layer)
        if (top, left) != (bottom, right):  # 'same' with an even extent: PyTorch pads that itself
            pad = "same"
        else:
            pad = (top, left)
        kwargs = dict(stride=stride, padding=pad, dilation=dilation, groups=groups,
                      bias=layer.bias is not None, padding_mode=layer.padding_mode, dtype=dtype)
        if layer.connection is not None and groups != 1:
            raise TypeError(f"layer {name!r} (Conv2d) has both a connection matrix and groups={groups}; "
                            f"PyTorch has no such layer")
        O, Cg, kh, kw = layer.weight.data.shape  # the weight's, should it have been replaced
        if layer.connection is None:
            t = torch.nn.Conv2d(Cg * groups, O, (kh, kw), **kwargs)
        else:
            t = TL.MaskedConv2d(Cg, O, (kh, kw), layer.connection, **kwargs)
        t.weight = param(layer.weight.data)
        if layer.bias is not None:
            t.bias = param(layer.bias.data)
        return t
    if isinstance(layer, nn.ConvTranspose2d):
        dtype = torch.from_numpy(layer.weight.data[:0]).dtype
        C, Og, kh, kw = layer.weight.data.shape
        t = torch.nn.ConvTranspose2d(C, Og * layer.groups, (kh, kw), layer.stride, layer.padding,
                                     layer.output_padding, layer.groups, layer.bias is not None, layer.dilation,
                                     dtype=dtype)
        t.weight = param(layer.weight.data)
        if layer.bias is not None:
            t.bias = param(layer.bias.data)
        return t
    if isinstance(layer, nn.MaxPool2d):
        return torch.nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                                  layer.return_indices, layer.ceil_mode)
    if isinstance(layer, nn.AvgPool2d):
        if layer.weight is None:
            return torch.nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, layer.ceil_mode,
                                      layer.count_include_pad, layer.divisor_override)
        if (layer.padding, layer.ceil_mode, layer.divisor_override) != ((0, 0), False, None):
            raise TypeError(f"to_torch: layer {name!r} (trainable AvgPool2d) must have padding=0, ceil_mode=False "
                            f"and no divisor_override, got padding={layer.padding}, ceil_mode={layer.ceil_mode}, "
                            f"divisor_override={layer.divisor_override}")
        has_bias = isinstance(layer, nn.Subsampling)
        t = TL.WindowSumPool2d(layer.channels, layer.kernel_size, layer.stride, bias=has_bias)
        t.weight = param(layer.weight.data)
        if has_bias:
            t.bias = param(layer.bias.data)
        return t
    if isinstance(layer, nn.Linear):
        dtype = torch.from_numpy(layer.weight.data[:0]).dtype
        t = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, dtype=dtype)
        t.weight = param(layer.weight.data)
        if layer.bias is not None:
            t.bias = param(layer.bias.data)
        return t
    if isinstance(layer, (nn.Conv1d, nn.ConvTranspose1d)):
        dtype = torch.from_numpy(layer.weight.data[:0]).dtype
        if isinstance(layer, nn.Conv1d):
            t = torch.nn.Conv1d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                                layer.dilation, layer.groups, layer.bias is not None, layer.padding_mode, dtype=dtype)
        else:
            t = torch.nn.ConvTranspose1d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                                         layer.padding, layer.output_padding, layer.groups, layer.bias is not None,
                                         layer.dilation, dtype=dtype)
        t.weight = param(layer.weight.data)
        if layer.bias is not None:
            t.bias = param(layer.bias.data)
        return t
    if isinstance(layer, (nn.InstanceNorm1d, nn.InstanceNorm2d)):
        cls = torch.nn.InstanceNorm2d if isinstance(layer, nn.InstanceNorm2d) else torch.nn.InstanceNorm1d
        t = cls(layer.num_features, layer.eps, layer.momentum, layer.affine, layer.track_running_stats)
        t.load_state_dict({k: torch.from_numpy(v) for k, v in _batch_norm_arrays(layer).items()})
        return t
    if isinstance(layer, nn.Embedding):
        return torch.nn.Embedding(layer.num_embeddings, layer.embedding_dim, layer.padding_idx, layer.max_norm,
                                  layer.norm_type, layer.scale_grad_by_freq,
                                  _weight=torch.from_numpy(np.array(layer.weight.data, copy=True)))
    if isinstance(layer, nn.PReLU):
        dtype = torch.from_numpy(layer.weight.data[:0]).dtype
        t = torch.nn.PReLU(layer.num_parameters, dtype=dtype)
        t.weight = param(layer.weight.data)
        return t
    if isinstance(layer, nn.Vec):
        return TL.VecFlatten()
    if isinstance(layer, nn.ScaledTanh):
        return TL.ScaledTanh(layer.A, layer.S)
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if layer.affine and layer.bias is None:
            raise TypeError(f"to_torch: layer {name!r} ({type(layer).__name__}) has bias=False, which "
                            "PyTorch's batch norm cannot express")
        cls = torch.nn.BatchNorm2d if isinstance(layer, nn.BatchNorm2d) else torch.nn.BatchNorm1d
        dtype = torch.from_numpy(layer.weight.data[:0] if layer.affine else layer.running_mean.data[:0]
                                 if layer.track_running_stats else np.zeros(0, np.float32)).dtype
        t = cls(layer.num_features, layer.eps, layer.momentum, layer.affine, layer.track_running_stats, dtype=dtype)
        t.load_state_dict({k: torch.from_numpy(v) for k, v in _batch_norm_arrays(layer).items()})
        return t
    for ours, theirs, args in _simple_layers(torch):
        if type(layer) is ours:
            return theirs(**{a: getattr(layer, a) for a in args})
    raise _unsupported("to_torch", name, layer)


def to_torch(module):
    """An equivalent ``torch.nn.Module`` with copies of the weights (same outputs, trainable).

    ``models.LeNet5`` becomes a ``torch.nn.Sequential`` whose children carry the
    same names (``c1``, ``s2``, ..., ``output``), so the state-dict keys match;
    a ``Sequential`` keeps its indices.  Raises TypeError naming an unsupported layer.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"to_torch: expected a tinygrad_cnn Module, got {type(module).__name__}")
    torch, TL = _import_torch()
    return _to_torch(torch, TL, type(module).__name__, module)


def _to_torch(torch, TL, name, module):
    if isinstance(module, LeNet5):
        t = torch.nn.Sequential(OrderedDict(
            (n, _to_torch(torch, TL, n, layer)) for n, layer in _layers(module)))
    elif isinstance(module, nn.Sequential):
        t = torch.nn.Sequential(*[_to_torch(torch, TL, f"{name}.{i}", layer) for i, layer in enumerate(module)])
    else:
        t = _torch_layer(torch, TL, name, module)
    t.training = module.training  # each layer keeps its own mode (.train() would set all alike)
    return t


# --------------------------------------------------------------- from PyTorch
def _array(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _from_torch_layer(torch, TL, name, t):
    layer = _from_torch_layer_of(torch, TL, name, t)
    layer.training = t.training  # each layer keeps its own mode (.train() would set all alike)
    return layer


def _from_torch_layer_of(torch, TL, name, t):
    where = "from_torch"
    if isinstance(t, torch.nn.Sequential):
        return nn.Sequential(*[_from_torch_layer(torch, TL, f"{name}.{n}", c) for n, c in t.named_children()])
    if isinstance(t, torch.nn.ConvTranspose2d):
        if t.padding_mode != "zeros" or isinstance(t.padding, str):
            raise TypeError(f"{where}: layer {name!r} (ConvTranspose2d) must have zero padding given as ints, got "
                            f"padding={t.padding!r}, padding_mode={t.padding_mode!r}")
        layer = nn.ConvTranspose2d(t.in_channels, t.out_channels, _pair(t.kernel_size), _pair(t.stride),
                                   _pair(t.padding), _pair(t.output_padding), t.groups, t.bias is not None,
                                   _pair(t.dilation))
        layer.weight = nn.Parameter(_array(t.weight))
        if t.bias is not None:
            layer.bias = nn.Parameter(_array(t.bias))
        return layer
    if isinstance(t, torch.nn.Conv2d):
        if t.groups != 1 or _pair(t.dilation) != (1, 1):
            raise TypeError(f"{where}: layer {name!r} (Conv2d) must have groups=1 and dilation=1, "
                            f"got groups={t.groups}, dilation={t.dilation}")
        conn = _array(t.mask).reshape(t.out_channels, t.in_channels) if isinstance(t, TL.MaskedConv2d) else None
        padding = t.padding if isinstance(t.padding, str) else _pair(t.padding)
        layer = nn.Conv2d(t.in_channels, t.out_channels, _pair(t.kernel_size), _pair(t.stride), padding,
                          bias=t.bias is not None, padding_mode=t.padding_mode, connection=conn)
        w = _array(t.weight)
        layer.weight = nn.Parameter(w if conn is None else w * conn[:, :, None, None].astype(w.dtype))
        if t.bias is not None:
            layer.bias = nn.Parameter(_array(t.bias))
        return layer
    if isinstance(t, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)):
        stride = _pair(t.kernel_size if t.stride is None or t.stride == [] else t.stride)
        try:  # our layers check PyTorch's limits (e.g. padding at most half the window) themselves
            if isinstance(t, torch.nn.MaxPool2d):
                return nn.MaxPool2d(_pair(t.kernel_size), stride, _pair(t.padding), _pair(t.dilation),
                                    t.return_indices, t.ceil_mode)
            return nn.AvgPool2d(_pair(t.kernel_size), stride, _pair(t.padding), t.ceil_mode, t.count_include_pad,
                                t.divisor_override)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{where}: layer {name!r} ({type(t).__name__}): {exc}") from exc
    if isinstance(t, TL.WindowSumPool2d):
        c = t.weight.numel()
        layer = (nn.Subsampling(c, t.kernel_size, t.stride) if t.bias is not None
                 else nn.AvgPool2d(t.kernel_size, t.stride, channels=c))
        layer.weight = nn.Parameter(_array(t.weight))
        if t.bias is not None:
            layer.bias = nn.Parameter(_array(t.bias))
        return layer
    if isinstance(t, torch.nn.Linear):
        layer = nn.Linear(t.in_features, t.out_features, bias=t.bias is not None)
        layer.weight = nn.Parameter(_array(t.weight))
        if t.bias is not None:
            layer.bias = nn.Parameter(_array(t.bias))
        return layer
    if type(t) in (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d):
        cls = nn.BatchNorm2d if type(t) is torch.nn.BatchNorm2d else nn.BatchNorm1d
        dtype = t.weight.dtype if t.affine else t.running_mean.dtype if t.track_running_stats else torch.float32
        layer = cls(t.num_features, t.eps, t.momentum, t.affine, t.track_running_stats,
                    dtype=np.dtype(str(dtype).removeprefix("torch.")))
        layer.load_state_dict(_batch_norm_arrays(t))
        return layer
    if type(t) in (torch.nn.Conv1d, torch.nn.ConvTranspose1d):
        if isinstance(t, torch.nn.Conv1d):
            layer = nn.Conv1d(t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding, t.dilation, t.groups,
                              t.bias is not None, t.padding_mode)
        else:
            layer = nn.ConvTranspose1d(t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding,
                                       t.output_padding, t.groups, t.bias is not None, t.dilation)
        layer.weight = nn.Parameter(_array(t.weight))
        if t.bias is not None:
            layer.bias = nn.Parameter(_array(t.bias))
        return layer
    if type(t) in (torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d):
        cls = nn.InstanceNorm2d if type(t) is torch.nn.InstanceNorm2d else nn.InstanceNorm1d
        layer = cls(t.num_features, t.eps, t.momentum, t.affine, t.track_running_stats)
        layer.load_state_dict(_batch_norm_arrays(t))
        return layer
    if type(t) is torch.nn.Embedding:
        return nn.Embedding(t.num_embeddings, t.embedding_dim, t.padding_idx, t.max_norm, t.norm_type,
                            t.scale_grad_by_freq, _weight=_array(t.weight))
    if type(t) is torch.nn.PReLU:
        layer = nn.PReLU(t.num_parameters)
        layer.weight = nn.Parameter(_array(t.weight))
        return layer
    if isinstance(t, TL.VecFlatten):
        return nn.Vec()
    if isinstance(t, TL.ScaledTanh):
        layer = nn.ScaledTanh()
        layer.A, layer.S = t.A, t.S
        return layer
    for ours, theirs, args in _simple_layers(torch):
        if type(t) is theirs:
            return ours(**{a: getattr(t, a) for a in args})
    raise TypeError(f"{where}: layer {name!r} of type {type(t).__name__} is not supported; supported: "
                    f"Sequential of {_SUPPORTED.replace(', Sequential and models.LeNet5', '')}")


def from_torch(torch_module) -> nn.Sequential:
    """A ``tinygrad_cnn.nn.Sequential`` equivalent to a ``torch.nn.Sequential`` (weights copied).

    Layers: ``Conv2d`` (groups=1, dilation=1, any ``padding_mode``), ``ConvTranspose2d``, ``MaxPool2d`` and
    ``AvgPool2d`` (every PyTorch option), ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d``,
    ``BatchNorm1d``/``BatchNorm2d`` (with their running statistics), ``Dropout``,
    ``Dropout2d``, ``Identity``, ``ReLU``, ``Tanh``, ``Sigmoid``, ``LeakyReLU``,
    ``ELU``, ``GELU``, ``Softmax``, ``LogSoftmax``, ``Flatten`` (row-major, so NOT
    ``Vec``), ``Linear``, the padding layers (``ReflectionPad2d``, ``ZeroPad2d``, … 1d to 3d),
    nested ``Sequential``, and the layers that :func:`to_torch` makes.  Building the layers does not
    advance the generator behind ``nn.manual_seed``.
    """
    torch, TL = _import_torch()
    if not isinstance(torch_module, torch.nn.Sequential):
        raise TypeError(f"from_torch: expected a torch.nn.Sequential, got {type(torch_module).__name__}")
    rng = nn.get_rng()
    state = rng.bit_generator.state
    try:
        model = _from_torch_layer(torch, TL, "model", torch_module)
    finally:
        rng.bit_generator.state = state
    return model




# --------------------------------------------------------------- to ONNX
ONNX_OPSET = 17


class _OnnxGraph:
    """Collects ONNX nodes and initializers while the layers are walked in order."""

    def __init__(self, helper, numpy_helper, dtype):
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, dtype
        self.nodes, self.initializers, self.count = [], [], 0

    def const(self, name, arr):
        self.initializers.append(self.numpy_helper.from_array(np.asarray(arr, dtype=self.dtype), name))
        return name

    def ints(self, name, values):
        """An int64 initializer (ONNX's shape-like inputs, e.g. Pad's pads)."""
        self.initializers.append(self.numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def op(self, op_type, inputs, name, **attrs):
        self.count += 1
        out = f"{name}.{op_type.lower()}{self.count}"
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


#: ONNX's Pad modes (opset 17) for F.pad's; 'circular' ('wrap') needs opset 19.
_ONNX_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def _onnx_pad(g, name, x, rank, pad, mode, value=0.0):
    """Append a Pad of the last ``len(pad) // 2`` axes (``pad`` in PyTorch's order) of ``x``,
    a value with ``rank`` axes."""
    if mode not in _ONNX_PAD_MODES:
        raise TypeError(f"to_onnx: layer {name!r} pads in mode {mode!r}, which ONNX opset {ONNX_OPSET}'s "
                        f"Pad cannot express (its 'wrap' needs opset 19)")
    if mode != "constant" and min(pad) < 0:
        raise TypeError(f"to_onnx: layer {name!r} crops (pad {tuple(pad)}) in mode {mode!r}; export its "
                        f"padding without negative entries")
    k = len(pad) // 2
    begins = [0] * (rank - k) + [pad[2 * (k - 1 - i)] for i in range(k)]  # ONNX: every axis, first to last
    ends = [0] * (rank - k) + [pad[2 * (k - 1 - i) + 1] for i in range(k)]
    inputs = [x, g.ints(f"{name}.pads{g.count}", begins + ends)]
    if mode == "constant":
        inputs.append(g.const(f"{name}.value{g.count}", np.asarray(value)))
    return g.op("Pad", inputs, name, mode=_ONNX_PAD_MODES[mode])


def _onnx_layer(g, name, layer, x, rank):
    """Append ``layer`` applied to the ONNX value ``x`` (``rank`` axes); returns the output's name."""
    if isinstance(layer, tuple(getattr(nn, n) for n in nn.padding.__all__)):
        return _onnx_pad(g, name, x, rank, layer.padding, layer.mode, getattr(layer, "value", 0.0))
    if isinstance(layer, nn.Conv2d):
        w = layer.weight.data
        stride, (top, bottom, left, right), dilation, groups = _conv_geometry(layer)
        if layer.padding_mode != "zeros":
            x = _onnx_pad(g, name, x, rank, (left, right, top, bottom), layer.padding_mode)
            top = bottom = left = right = 0
        if layer.connection is not None:
            if groups != 1:
                raise TypeError(f"to_onnx: layer {name!r} (Conv2d) has both a connection matrix and "
                                f"groups={groups}")
            w = w * layer.connection[:, :, None, None].astype(w.dtype)
        inputs = [x, g.const(f"{name}.weight", w)]
        if layer.bias is not None:
            inputs.append(g.const(f"{name}.bias", layer.bias.data))
        return g.op("Conv", inputs, name, kernel_shape=list(w.shape[2:]), strides=list(stride),
                    pads=[top, left, bottom, right], dilations=list(dilation), group=groups)
    if isinstance(layer, nn.ConvTranspose2d):
        inputs = [x, g.const(f"{name}.weight", layer.weight.data)]
        if layer.bias is not None:
            inputs.append(g.const(f"{name}.bias", layer.bias.data))
        (ph, pw), (oh, ow) = layer.padding, layer.output_padding
        return g.op("ConvTranspose", inputs, name, kernel_shape=list(layer.weight.data.shape[2:]),
                    strides=list(layer.stride), pads=[ph, pw, ph, pw], dilations=list(layer.dilation),
                    group=layer.groups, output_padding=[oh, ow])
    if isinstance(layer, nn.MaxPool2d):
        if layer.return_indices:
            raise TypeError(f"to_onnx: layer {name!r} (MaxPool2d) returns indices; export the values only")
        ph, pw = layer.padding
        return g.op("MaxPool", [x], name, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                    pads=[ph, pw, ph, pw], dilations=list(layer.dilation), ceil_mode=int(layer.ceil_mode))
    if isinstance(layer, nn.AvgPool2d):
        kh, kw = layer.kernel_size
        if layer.divisor_override is not None:
            raise TypeError(f"to_onnx: layer {name!r} (AvgPool2d) has divisor_override="
                            f"{layer.divisor_override}, which ONNX's AveragePool cannot express")
        if layer.weight is None:
            ph, pw = layer.padding
            return g.op("AveragePool", [x], name, kernel_shape=[kh, kw], strides=list(layer.stride),
                        pads=[ph, pw, ph, pw], ceil_mode=int(layer.ceil_mode),
                        count_include_pad=int(layer.count_include_pad))
        if (layer.padding, layer.ceil_mode) != ((0, 0), False):
            raise TypeError(f"to_onnx: layer {name!r} (trainable AvgPool2d) must have padding=0 and "
                            f"ceil_mode=False, got padding={layer.padding}, ceil_mode={layer.ceil_mode}")
        # z^h = w^h · Σ(window): a per-map (grouped) convolution whose kernel is w^h everywhere
        c = layer.channels
        kernel = np.broadcast_to(layer.weight.data.reshape(c, 1, 1, 1), (c, 1, kh, kw))
        inputs = [x, g.const(f"{name}.weight", kernel)]
        if isinstance(layer, nn.Subsampling):
            inputs.append(g.const(f"{name}.bias", layer.bias.data))
        return g.op("Conv", inputs, name, kernel_shape=[kh, kw], strides=list(layer.stride), group=c)
    if isinstance(layer, nn.Vec):  # column stacking: swap the last two axes, then flatten
        return g.op("Flatten", [g.op("Transpose", [x], name, perm=[0, 1, 3, 2])], name, axis=1)
    if type(layer) is nn.Flatten and (layer.start_dim, layer.end_dim) == (1, -1):  # row-major, as PyTorch
        return g.op("Flatten", [x], name, axis=1)
    if isinstance(layer, nn.Linear):
        inputs = [x, g.const(f"{name}.weight", layer.weight.data)]
        if layer.bias is not None:
            inputs.append(g.const(f"{name}.bias", layer.bias.data))
        return g.op("Gemm", inputs, name, transB=1)
    if isinstance(layer, nn.ScaledTanh):  # same order as nn.ScaledTanh: tanh(x·S)·A
        s = g.op("Mul", [x, g.const(f"{name}.S{g.count}", layer.S)], name)
        return g.op("Mul", [g.op("Tanh", [s], name), g.const(f"{name}.A{g.count}", layer.A)], name)
    for ours, onnx_op in ((nn.ReLU, "Relu"), (nn.Tanh, "Tanh"), (nn.Sigmoid, "Sigmoid")):
        if type(layer) is ours:
            return g.op(onnx_op, [x], name)
    raise _unsupported("to_onnx", name, layer)


def _input_ranks(layers, x) -> list:
    """The number of axes of each layer's input: ONNX's Pad pads every axis, so a padding layer
    needs it.  Only then is the example run through the layers (a convolution's input has 4)."""
    pads = tuple(getattr(nn, n) for n in nn.padding.__all__)
    if not any(isinstance(layer, pads) for _, layer in layers):
        return [4] * len(layers)
    ranks, t = [], Tensor(x)
    with no_grad():
        for _, layer in layers:
            ranks.append(t.ndim)
            t = layer(t)
    return ranks


def to_onnx(module, example_input, path) -> None:
    """Write ``module`` as an ONNX model to ``path`` (the batch axis stays dynamic).

    ``example_input`` is one batch (a Tensor or numpy array, first axis the batch):
    it fixes the other axes and the dtype, and the module is run on it once to
    check that it accepts it.  The graph is built from the layers directly (opset
    17; needs onnx, not torch): a connection matrix is folded into the stored
    weight, trainable average pooling becomes a grouped convolution.
    """
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("export.to_onnx needs onnx: pip install onnx "
                          "(or pip install 'tinygrad-cnn[export]')") from exc
    if not isinstance(module, nn.Module):
        raise TypeError(f"to_onnx: expected a tinygrad_cnn Module, got {type(module).__name__}")
    x = example_input.data if isinstance(example_input, Tensor) else example_input
    if not isinstance(x, np.ndarray):
        raise TypeError(f"to_onnx: example_input must be a Tensor or a numpy array, got {type(example_input).__name__}")
    if x.dtype not in (np.float32, np.float64) or x.ndim < 2:
        raise ValueError(f"to_onnx: example_input must be a float32/float64 batch (N, ...), "
                         f"got dtype {x.dtype} with shape {x.shape}")
    layers = _layers(module)
    g = _OnnxGraph(helper, numpy_helper, x.dtype)
    ranks = _input_ranks(layers, x)
    value = "input"
    for (name, layer), rank in zip(layers, ranks):
        value = _onnx_layer(g, name, layer, value, rank)
    with no_grad():
        y = module(Tensor(x))
    if y.ndim < 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"to_onnx: example_input must be one batch whose first axis is the batch; "
                         f"input shape {x.shape} gave output shape {y.shape}")
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    g.nodes.append(helper.make_node("Identity", [value], ["output"], name="output"))
    graph = helper.make_graph(
        g.nodes, type(module).__name__,
        [helper.make_tensor_value_info("input", elem, ["batch", *x.shape[1:]])],
        [helper.make_tensor_value_info("output", elem, ["batch", *y.shape[1:]])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, producer_name="tinygrad_cnn",
                              opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    model.ir_version = min(model.ir_version, 8)  # readable by older onnxruntime releases too
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
