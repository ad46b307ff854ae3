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

import hashlib
import os
import pickle
import re
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from . import _checks

__all__ = ["TrainingRecipe", "TrainingResult", "train_lenet5", "kernels_cached",
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
        _warm_up(model, optimizer, x_train[:2], y_train[:2], say)

        previous = resume.history if resume is not None else {}
        settings = self.checkpoint_settings()

        def after_epoch(epoch, history):
            if save is not None:
                state = training_state(model, optimizer, settings, epoch,
                                       merge_history(previous, history))
                save_state(state, save)
            return on_epoch(epoch, history) if on_epoch is not None else None

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


#: a decorator line that asks Numba for an on-disk cache, e.g. ``@njit(parallel=True, cache=True)``
_CACHED_JIT = re.compile(r"^[ \t]*@[\w.]*jit\(.*\bcache\s*=\s*True", re.MULTILINE)


def kernels_cached(kernels_dir=None, cache_dirs=None) -> bool:
    """Whether Numba's on-disk cache holds the compiled kernels (cheap: no compilation).

    True when every module of ``kernels_dir`` (default: :mod:`tinygrad_cnn.kernels`) that
    declares cached functions has a Numba cache index (``<module>.*.nbi``) made for its
    source in one of ``cache_dirs`` (default: the places Numba writes to: the package's
    ``__pycache__``, ``NUMBA_CACHE_DIR``, the user-wide cache): one whose stamp is the
    source's (Numba's stamp is the source's SHA-256, or its mtime and size in older
    versions), or failing that one at least as new as the source.  The stamp matters
    after a checkout that rewrote an unchanged source: Numba still loads its cache, though
    the file is newer.  A False may be pessimistic (an index made for other argument
    types); it only decides whether to print a notice.
    """
    if kernels_dir is None:  # absolute but not resolved, as Numba names it
        kernels_dir = Path(os.path.abspath(__file__)).with_name("kernels")
    kernels_dir = Path(kernels_dir)
    if cache_dirs is None:
        cache_dirs = _numba_cache_dirs(kernels_dir)
    for source in sorted(kernels_dir.glob("*.py")):
        try:
            text = source.read_bytes()
            if not _CACHED_JIT.search(text.decode("utf-8")):
                continue
            st = source.stat()
        except (OSError, UnicodeDecodeError):
            continue
        indexes = [index for d in cache_dirs for index in Path(d).glob(f"{source.stem}.*.nbi")]
        stamps = (hashlib.sha256(text).digest(), (st.st_mtime, st.st_size))
        if not any(_index_fresh(index, st.st_mtime, stamps) for index in indexes):
            return False
    return True


def _index_fresh(index, source_mtime, stamps) -> bool:
    """Whether a Numba cache index is at least as new as its source or was written for it.

    The index is Numba's version, pickled, then the pickled pair (stamp, overloads).  An
    index that vanished, or is empty, foreign or truncated, counts as stale.
    """
    try:
        if index.stat().st_mtime >= source_mtime:
            return True
        with open(index, "rb") as f:
            pickle.load(f)
            stamp = pickle.loads(f.read())[0]
        return any(type(stamp) is type(s) and stamp == s for s in stamps)
    except Exception:
        return False


def _numba_cache_dirs(kernels_dir):
    """Where Numba puts the cache of the modules in ``kernels_dir`` (its three locators)."""
    import numba

    dirs = [kernels_dir / "__pycache__"]
    subpath = f"{kernels_dir.name}_{hashlib.sha1(str(kernels_dir).encode()).hexdigest()}"
    if numba.config.CACHE_DIR:
        dirs.append(Path(numba.config.CACHE_DIR) / subpath)
    try:
        from numba.misc.appdirs import AppDirs

        dirs.append(Path(AppDirs(appname="numba", appauthor=False).user_cache_dir) / subpath)
    except ImportError:  # an older or newer layout of Numba: the two above remain
        pass
    return dirs


def _warm_up(model, optimizer, x, y, say):
    """Compile (or load) the kernels with one forward/backward on a tiny batch before training,
    so that the progress bar's ETA covers training only. Nothing of the model changes: no
    optimiser step, and the gradients are cleared again."""
    from . import functional as F
    from .tensor import Tensor, no_grad

    if not kernels_cached():
        say(COMPILE_NOTICE)
        sys.stdout.flush()
    training = getattr(model, "training", True)
    model.train()
    F.cross_entropy(model(Tensor(x)), y).backward()
    optimizer.zero_grad()
    model.eval()
    with no_grad():
        model(Tensor(x))
    model.train(training)
