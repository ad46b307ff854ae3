"""The training recipe: every setting of a LeNet-5 run, and its defaults, in one dataclass.

::

    from tinygrad_cnn.recipe import TrainingRecipe

    result = TrainingRecipe().run()               # what `python -m tinygrad_cnn train` does
    result.test_accuracy                          # about 0.98 (0.975 with seed 0)
    TrainingRecipe(epochs=3, optimizer="adam").run(progress=False)

The defaults are chosen so that a plain run reaches >= 98% test accuracy on the digits split in
well under a minute on two idle cores: SGD with momentum and weight decay, a cosine
learning-rate decay and random affine distortions of the training images (rotation <= 10
degrees, scale +-10%, shift <= 2 px). Without augmentation LeNet-5 fits the 1,438 training
images perfectly within a few epochs and stalls at ~96-97% test accuracy.

The command line takes its defaults from here, notebooks and the README use the class, and no
other code states these numbers. Only ``numpy`` and the validation module are imported at
module level, so the command line can check its arguments before anything heavy loads.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields

from . import _checks

__all__ = ["TrainingRecipe", "TrainingResult", "train_lenet5",
           "OPTIMIZER_DEFAULTS", "DATASETS", "OPTIMIZERS", "SCHEDULES", "AUGMENTATIONS"]

DATASETS = ("digits", "mnist", "mnist-sample")
OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "constant")
AUGMENTATIONS = ("affine", "shift", "none")

#: the settings a recipe leaves at None take these values for its optimiser
OPTIMIZER_DEFAULTS = {
    "sgd": {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
    "adam": {"lr": 2e-3, "weight_decay": 0.0},
}

#: the settings that a training checkpoint records and validates (its ``meta.*``)
CHECKPOINT_CHOICES = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "augment": AUGMENTATIONS}

COMPILE_NOTICE = "compiling kernels (first run only, about 30 s)..."


@dataclass
class TrainingRecipe:
    """How to train LeNet-5: data, optimiser, schedule, augmentation and seed.

    ``lr``, ``momentum`` and ``weight_decay`` left at ``None`` take the optimiser's values
    from :data:`OPTIMIZER_DEFAULTS` (SGD: 0.05, 0.9, 5e-4; Adam: 2e-3, -, 0); ``momentum``
    applies to SGD only. ``schedule='cosine'`` decays the rate from ``lr`` towards 0 over the
    epochs (:class:`~tinygrad_cnn.optim.lr_scheduler.CosineAnnealingLR`), ``'constant'`` keeps
    it. ``augment`` distorts every training image: ``'affine'`` by a random rotation of up to
    ``max_rotation`` degrees, a scaling by up to ``max_scale`` and a shift of up to
    ``max_shift`` px; ``'shift'`` by whole-pixel shifts of up to ``int(max_shift)`` px;
    ``'none'`` not at all. ``seed`` seeds the weights, the shuffling and the augmentation.
    ``limit`` keeps only the first N training and test images (smoke tests).
    Invalid settings raise ``TypeError``/``ValueError`` when the recipe is made; ``seed`` is
    at most ``2**63 - 1`` (a training checkpoint stores it as an int64; numpy's generators
    take any such seed), ``batch_size`` at most ``2**20`` and ``epochs`` at most ``10**6``.
    """

    dataset: str = "digits"
    data_dir: str | None = None
    size: int = 32
    limit: int | None = None
    epochs: int = 25
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float | None = None
    weight_decay: float | None = None
    schedule: str = "cosine"
    augment: str = "affine"
    max_rotation: float = 10.0
    max_scale: float = 0.1
    max_shift: float = 2.0
    seed: int = 0

    def __post_init__(self):
        _checks.one_of(self.dataset, "dataset", DATASETS)
        if self.dataset == "mnist" and not self.data_dir:
            raise ValueError("dataset 'mnist' needs data_dir (the directory of the MNIST IDX files)")
        self.size = _checks.positive_int(self.size, "size")
        if self.limit is not None:
            self.limit = _checks.positive_int(self.limit, "limit")
        self.epochs = _checks.positive_int(self.epochs, "epochs", _checks.MAX_EPOCHS)
        self.batch_size = _checks.positive_int(self.batch_size, "batch_size",
                                               _checks.MAX_BATCH_SIZE)
        _checks.one_of(self.optimizer, "optimizer", OPTIMIZERS)
        defaults = OPTIMIZER_DEFAULTS[self.optimizer]
        if self.momentum is not None and "momentum" not in defaults:
            raise ValueError(f"momentum applies to sgd only, not to optimizer {self.optimizer!r}")
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        self.lr = _checks.real(self.lr, "lr", 0.0, low_open=True)
        if self.momentum is not None:
            self.momentum = _checks.real(self.momentum, "momentum", 0.0, 1.0, high_open=True)
        self.weight_decay = _checks.real(self.weight_decay, "weight_decay", 0.0)
        _checks.one_of(self.schedule, "schedule", SCHEDULES)
        _checks.one_of(self.augment, "augment", AUGMENTATIONS)
        self.max_rotation = _checks.real(self.max_rotation, "max_rotation", 0.0)
        self.max_scale = _checks.real(self.max_scale, "max_scale", 0.0, 1.0, high_open=True)
        self.max_shift = _checks.real(self.max_shift, "max_shift", 0.0)
        self.seed = _checks.nonneg_int(self.seed, "seed", _checks.MAX_SEED)

    @classmethod
    def resuming(cls, checkpoint, **settings) -> TrainingRecipe:
        """The recipe of a checkpoint's run (:class:`~tinygrad_cnn.checkpoint.TrainingCheckpoint`),
        with ``settings`` (those not ``None``) given again taking precedence."""
        names = {f.name for f in fields(cls)}
        stored = {k: v for k, v in checkpoint.settings.items() if k in names}
        wanted = settings.get("optimizer")
        if wanted is not None and stored.get("optimizer", wanted) != wanted:
            raise ValueError(f"optimizer {wanted} does not match the checkpoint, which was trained "
                             f"with {stored['optimizer']}")
        return cls(**{**stored, **{k: v for k, v in settings.items() if v is not None}})

    # ---------------------------------------------------------------------------- pieces
    def describe_augmentation(self, name=None) -> str:
        """What the augmentation ``name`` (default: this recipe's) does, in words."""
        name = self.augment if name is None else name
        if name == "affine":
            return (f"random rotation <= {self.max_rotation:g} degrees, scale "
                    f"{1 - self.max_scale:g}-{1 + self.max_scale:g} and shift <= "
                    f"{self.max_shift:g} px, bilinear")
        if name == "shift":
            return f"random whole-pixel shifts of up to {int(self.max_shift)} px"
        return "no augmentation"

    def augmentation(self):
        """The ``augment(x_batch, rng)`` callable for :func:`~tinygrad_cnn.train.fit`, or None."""
        from .data.augment import random_affine, random_shift

        if self.augment == "affine":
            return random_affine(self.max_rotation, self.max_scale, self.max_shift)
        if self.augment == "shift":
            return random_shift(int(self.max_shift))
        return None

    def load_data(self):
        """``(x_train, y_train, x_test, y_test)`` of the recipe's dataset (``limit`` applied)."""
        from . import data

        if self.dataset == "digits":
            x_train, y_train, x_test, y_test = data.load_digits(size=self.size)
        elif self.dataset == "mnist-sample":
            x_train, y_train, x_test, y_test = data.load_mnist_sample(size=self.size)
        else:
            x_train, y_train, x_test, y_test = data.load_mnist(self.data_dir, size=self.size)
        if self.limit is not None:
            n = self.limit
            x_train, y_train, x_test, y_test = x_train[:n], y_train[:n], x_test[:n], y_test[:n]
        return x_train, y_train, x_test, y_test

    def build(self, resume=None):
        """A seeded LeNet-5 and its optimiser: ``(model, optimizer)``.

        With ``resume`` (a :class:`~tinygrad_cnn.checkpoint.TrainingCheckpoint`) the model and
        optimiser states are restored from it, then the recipe's learning rate, momentum and
        weight decay set; a state that does not fit raises ``ValueError``/``TypeError``.
        """
        from . import nn, optim
        from .models import LeNet5

        nn.manual_seed(self.seed)
        model = LeNet5()
        if self.optimizer == "adam":
            optimizer = optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        else:
            optimizer = optim.SGD(model.parameters(), lr=self.lr, momentum=self.momentum,
                                  weight_decay=self.weight_decay)
        if resume is not None:
            model.load_state_dict(resume.model_state)
            if resume.optim_state:
                optimizer.load_state_dict(resume.optim_state)
            optimizer.lr, optimizer.weight_decay = self.lr, self.weight_decay
            if self.momentum is not None:
                optimizer.momentum = self.momentum
        return model, optimizer

    def scheduler(self, optimizer, start_epoch=0):
        """The learning-rate scheduler of a run that has ``start_epoch`` epochs behind it.

        The cosine schedule spans ``start_epoch + epochs`` epochs from the recipe's ``lr``, so
        epoch ``e`` gets the same rate whether or not the run was interrupted before it (and
        a resumed run continues on the longer schedule). ``None`` for a constant rate.
        """
        if self.schedule == "constant":
            return None
        from .optim.lr_scheduler import CosineAnnealingLR

        optimizer.initial_lr = self.lr
        return CosineAnnealingLR(optimizer, T_max=start_epoch + self.epochs,
                                 last_epoch=start_epoch - 1)

    def checkpoint_settings(self) -> dict:
        """The settings a training checkpoint records (``meta.*``)."""
        keep = ("optimizer", "dataset", "seed", "lr", "schedule", "augment", "batch_size")
        return {k: v for k, v in asdict(self).items() if k in keep}

    def summary(self, model, optimizer, n_train, n_test) -> str:
        """The one-line description of a run printed before its first epoch."""
        count = getattr(model, "trainable_parameter_count", None)
        n_params = count() if callable(count) else sum(p.data.size for p in model.parameters())
        hyper = f"lr {self.lr:g} ({self.schedule})"
        if self.optimizer == "sgd":
            hyper += f", momentum {optimizer.momentum:g}"
        if getattr(optimizer, "weight_decay", 0):
            hyper += f", weight decay {optimizer.weight_decay:g}"
        aug = "no augmentation" if self.augment == "none" else f"{self.augment} augmentation"
        threads = _num_threads()
        return (f"LeNet-5 ({n_params:,} trainable parameters) on {self.dataset}: "
                f"{n_train} train / {n_test} test images; {self.optimizer} {hyper}, "
                f"batch {self.batch_size}, {aug}, seed {self.seed}, "
                f"{threads} thread{'s' if threads != 1 else ''}")

    # ------------------------------------------------------------------------------- run
    def run(self, *, data=None, resume=None, save=None, progress=True, log=print,
            on_epoch=None, model=None, optimizer=None) -> TrainingResult:
        """Train LeNet-5 with this recipe; returns a :class:`TrainingResult`.

        ``data``: ``(x_train, y_train, x_test, y_test)`` (default :meth:`load_data`).
        ``resume``: a checkpoint path or :class:`~tinygrad_cnn.checkpoint.TrainingCheckpoint`
        to continue from (its epochs count first; this recipe's settings apply, so build the
        recipe with :meth:`resuming` to keep the checkpoint's); ``save``: write a checkpoint to
        this path after every epoch. ``progress``: a progress bar on stderr. ``log``: receives
        the summary line, a one-line notice before the kernels are compiled for the first
        time, and one line per epoch (``None``: silence). ``on_epoch(epoch, history)``: as in
        :func:`~tinygrad_cnn.train.fit`, after the checkpoint is written. ``model`` and
        ``optimizer``: what :meth:`build` returned, when the caller built them already.
        """
        from .checkpoint import merge_history, read_training_checkpoint, save as save_state
        from .checkpoint import training_state
        from .train import fit

        if isinstance(resume, (str, os.PathLike)):
            resume = read_training_checkpoint(resume, choices=CHECKPOINT_CHOICES)
        say = log if log is not None else (lambda _line: None)
        x_train, y_train, x_test, y_test = self.load_data() if data is None else data
        for name, x in (("training", x_train), ("test", x_test)):
            if len(x) == 0:
                raise ValueError(f"the {name} split of {self.dataset} holds no images")
        if model is None or optimizer is None:
            model, optimizer = self.build(resume)
        start_epoch = resume.epoch if resume is not None else 0
        scheduler = self.scheduler(optimizer, start_epoch)
        say(self.summary(model, optimizer, len(x_train), len(x_test)))
        if resume is not None:
            say(f"resumed from {resume.path} after epoch {start_epoch}")
        previous = resume.history if resume is not None else {}
        settings = self.checkpoint_settings()

        def after_epoch(epoch, history):
            if save is not None:
                state = training_state(model, optimizer, settings, epoch,
                                       merge_history(previous, history))
                save_state(state, save)
            return on_epoch(epoch, history) if on_epoch is not None else None

        # the notice comes before the first kernel compiles: in the warm-up, or in training
        # if it meets a kernel the warm-up did not
        with _compile_notice(say):
            _warm_up(model, optimizer, x_train[:self.batch_size], y_train[:self.batch_size],
                     self.augmentation())
            history = fit(model, optimizer, x_train, y_train, x_test, y_test, epochs=self.epochs,
                          batch_size=self.batch_size, seed=self.seed, start_epoch=start_epoch,
                          augment=self.augmentation(), scheduler=scheduler, progress=progress,
                          log=log, on_epoch=after_epoch)
        history = merge_history(previous, history)
        return TrainingResult(model, optimizer, history, history["test_acc"][-1])


@dataclass
class TrainingResult:
    """What :meth:`TrainingRecipe.run` returns."""

    model: object
    optimizer: object
    #: per-epoch curves (:data:`~tinygrad_cnn.train.HISTORY_KEYS`) from epoch 1, a resumed
    #: checkpoint's epochs included
    history: dict
    #: accuracy on the test split after the last epoch
    test_accuracy: float


def train_lenet5(recipe=None, **kwargs) -> TrainingResult:
    """``(recipe or TrainingRecipe()).run(**kwargs)``: train LeNet-5 and return the result."""
    return (TrainingRecipe() if recipe is None else recipe).run(**kwargs)


# --------------------------------------------------------------------------------------------
# threads and the first run
# --------------------------------------------------------------------------------------------

def _num_threads() -> int:
    """The number of threads the compiled kernels are set to run with (while other processes
    take the cores they run on one: ``runtime.cores_taken``; the header shows the setting)."""
    import numba

    from .runtime import get_num_threads

    return min(get_num_threads(), numba.get_num_threads())


@contextmanager
def _compile_notice(say):
    """While inside, say :data:`COMPILE_NOTICE` once, when Numba starts compiling a function.

    Numba compiles a kernel only when neither this process nor its on-disk cache holds it
    for the argument types at hand (a cache hit is a load, not a compilation), and it
    reports each compilation as a ``"numba:compile"`` event before it begins.  So the notice
    comes right before the first compilation, and a run whose kernels are all cached says
    nothing.  (Guessing from the cache's files beforehand was wrong whenever a module's
    cached functions are only ever inlined into others, or hold kernels that this run never
    calls.)
    """
    from numba.core import event

    class _Notice(event.Listener):
        said = False

        def on_start(self, ev):
            if not self.said:
                self.said = True
                say(COMPILE_NOTICE)
                sys.stdout.flush()

        def on_end(self, ev):
            pass

    with event.install_listener("numba:compile", _Notice()):
        yield


def _warm_up(model, optimizer, x, y, augment=None):
    """Compile (or load) the kernels of one training step and of evaluation before training,
    so that the progress bar's ETA covers training only: the augmentation, then forward,
    backward and optimiser step twice on one training batch, then a forward pass in
    evaluation mode.

    The steps run on a copy of the model and its optimiser, and the augmentation draws from
    a generator of its own: nothing that training reads changes.  A model that cannot be
    copied (one holding an open file, say) is warmed up without optimiser steps, on itself:
    its gradients are cleared again and its mode restored.
    """
    import copy

    import numpy as np

    from . import functional as F
    from .tensor import Tensor, no_grad

    try:  # one copy of both: the optimiser holds its model's parameters
        model, optimizer = copy.deepcopy((model, optimizer))
        steps = 2  # an optimiser's first step makes its state, the second uses it
    except Exception:
        steps = 0
    training = getattr(model, "training", True)
    if augment is not None:
        x = augment(x, np.random.default_rng(0))
    model.train()
    for _ in range(max(steps, 1)):
        optimizer.zero_grad()
        F.cross_entropy(model(Tensor(x)), y).backward()
        if steps:
            optimizer.step()
    optimizer.zero_grad()
    model.eval()
    with no_grad():
        model(Tensor(x))
    model.train(training)
