"""NeuralNet: what the classifier and the regressor share. Parameters follow skorch; the
training itself is `chainrule.train.fit`, so callbacks, EarlyStopping, History and the
diagnosis work as they do there. `fit` never changes the module it was given: it trains
a copy (an instance) or a new one (a class), kept in `module_`."""
import copy
import inspect
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from . import routing
from ..optim import SGD


def _cr():
    import chainrule
    return chainrule


def _top_level(cls):
    return [n for n in inspect.signature(cls.__init__).parameters if n not in ("self", "kwargs")]


class NeuralNet(BaseEstimator):
    """Base of NeuralNetClassifier and NeuralNetRegressor (see their docstrings)."""

    default_criterion = "mse"
    metrics = ()

    def __init__(self, module, criterion=None, optimizer=SGD, lr=0.01, max_epochs=10,
                 batch_size=128, train_split=None, callbacks=None, warm_start=False,
                 verbose=1, random_state=None, **kwargs):
        self.module, self.criterion, self.optimizer, self.lr = module, criterion, optimizer, lr
        self.max_epochs, self.batch_size, self.train_split = max_epochs, batch_size, train_split
        self.callbacks, self.warm_start, self.verbose = callbacks, warm_start, verbose
        self.random_state = random_state
        for key, value in kwargs.items():  # skorch keeps routed parameters as attributes;
            setattr(self, key, value)      # scikit-learn checks them in fit, not here

    # ---- parameters ------------------------------------------------------------------
    def _extra_names(self):
        """The keyword parameters given beyond the named ones (fitted attributes end
        with '_', private ones start with it)."""
        top = _top_level(type(self))
        return sorted(k for k in vars(self) if k not in top and not k.startswith("_")
                      and not k.endswith("_"))

    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        params.update({k: getattr(self, k) for k in self._extra_names()})
        return params

    def _check_params(self):
        top = _top_level(type(self))
        for key in self._extra_names():
            routing.check_routed(key, top)
        epochs = self.max_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise ValueError(f"max_epochs must be a positive integer, got {epochs!r}")

    def set_params(self, **params):
        """Set named and routed parameters; like __init__ it stores them as they are and
        fit checks them (a typo is answered there with "did you mean")."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    # ---- building --------------------------------------------------------------------
    def _all_params(self):
        return self.get_params(deep=False)

    def _module_kwargs(self, y):
        """Constructor arguments of a module class: routed ones, plus the output width
        from the data when the class takes one and it was not given."""
        kwargs = routing.routed(self._all_params(), "module")
        names = routing.accepted(self.module) or ()
        for name in self.output_width_names:
            if name in names and name not in kwargs:
                kwargs[name] = self._output_width(y)
        return kwargs

    def _build_module(self, X, y):
        cr = _cr()
        if isinstance(self.module, type):
            module = routing.build(self.module, self._module_kwargs(y), "module")
        elif isinstance(self.module, cr.nn.Module):
            extra = routing.routed(self._all_params(), "module")
            if extra:
                raise ValueError(f"module__{next(iter(extra))}: routed module parameters "
                                 "need `module` given as a class, built in fit")
            module = copy.deepcopy(self.module)
        else:
            raise TypeError(f"module must be a chainrule.nn.Module class or instance, got "
                            f"{type(self.module).__name__}")
        if not isinstance(module, cr.nn.Module):
            raise TypeError(f"module: {self.module!r} built {type(module).__name__}, not a "
                            "chainrule.nn.Module")
        self._materialize(module, X)
        return module

    @staticmethod
    def _materialize(module, X):
        """Lazy layers take their input width from a dry run on one row."""
        cr = _cr()
        if any(isinstance(p, cr.nn.parameter.UninitializedParameter) for p in module.parameters()):
            with cr.no_grad():
                module(cr.from_numpy(X[:1]))

    def _build_criterion(self):
        crit = self.criterion if self.criterion is not None else self.default_criterion
        kwargs = routing.as_tensors(routing.routed(self._all_params(), "criterion"))
        if isinstance(crit, str):
            from ..train.names import LOSSES, resolve_loss
            resolve_loss(crit)  # an unknown name is refused with the valid ones
            crit = getattr(_cr().nn, LOSSES[crit.lower()])
        if isinstance(crit, type):
            return routing.build(crit, kwargs, "criterion")
        if kwargs:
            raise ValueError(f"criterion__{next(iter(kwargs))}: routed criterion parameters "
                             "need `criterion` given as a class or a name")
        return crit

    def _build_optimizer(self, module):
        from ..train.names import resolve_optimizer
        kwargs = {"lr": self.lr, **routing.routed(self._all_params(), "optimizer")}
        opt = resolve_optimizer(self.optimizer)
        if not callable(opt) or hasattr(opt, "param_groups"):
            raise TypeError("optimizer must be a name ('sgd', 'adam', ...) or an optimizer "
                            f"class, got {type(opt).__name__}")
        return routing.build(opt, kwargs, "optimizer", module.parameters())

    # ---- data ------------------------------------------------------------------------
    def _validate(self, X, y=None, reset=True):
        kw = dict(dtype=[np.float32, np.float64], reset=reset)
        if y is None:
            return self._float32(validate_data(self, X, **kw)), None
        X, y = validate_data(self, X, y, multi_output=self.multi_output, **kw)
        return self._float32(X), y

    @staticmethod
    def _float32(X):
        """X in the parameters' dtype; finite values beyond float32's range are refused
        rather than turned into inf."""
        with np.errstate(over="ignore"):
            X32 = np.ascontiguousarray(X, dtype=np.float32)
        if not np.isfinite(X32).all():
            raise ValueError(f"X has values beyond float32's range (|x| > "
                             f"{np.finfo(np.float32).max:.3g}); the module computes in "
                             "float32: rescale X (e.g. StandardScaler)")
        return X32

    def _split(self, X, y):
        """(train, val) pairs: train_split None (all rows train), a fraction held out at
        random (stratified for classifiers), or a callable (X, y) -> (train, val)."""
        split = self.train_split
        if split is None:
            return (X, y), None
        if callable(split):
            return split(X, y)
        if isinstance(split, bool) or not isinstance(split, numbers.Real) or not 0 < split < 1:
            raise ValueError(f"train_split must be None, a fraction in (0, 1) or a callable "
                             f"(X, y) -> ((X_train, y_train), (X_val, y_val)); got {split!r}")
        from sklearn.model_selection import train_test_split
        strat = y if self._stratify(y, split) else None
        Xt, Xv, yt, yv = train_test_split(X, y, test_size=split, stratify=strat,
                                          random_state=self._seed)
        return (Xt, yt), (Xv, yv)

    def _stratify(self, y, split):
        return False

    # ---- training --------------------------------------------------------------------
    def _initialize(self, X, y):
        seed = self.random_state
        if seed is None:
            seed = int(np.random.randint(0, 2 ** 31 - 1))
        elif not isinstance(seed, numbers.Integral):
            raise ValueError(f"random_state must be None or an integer, got {seed!r}")
        self._seed = int(seed)
        _cr().manual_seed(self._seed)
        self.module_ = self._build_module(X, y)
        self.criterion_ = self._build_criterion()
        self.optimizer_ = self._build_optimizer(self.module_)
        self.history_ = None

    def _train(self, X, y, epochs):
        from ..train import fit
        yt = self._encode_targets(y)
        train, val = self._split(X, yt)
        callbacks = routing.configured_callbacks(self.callbacks, self._all_params())
        h = fit(self.module_, train, val, loss=self.criterion_, optimizer=self.optimizer_,
                epochs=epochs, metrics=list(self.metrics), callbacks=callbacks,
                batch_size=self.batch_size, seed=self._seed, progress=bool(self.verbose))
        self._seed += 1  # a further partial_fit shuffles differently
        self._record(h)
        return self

    def _record(self, h):
        if self.history_ is None:
            self.history_ = h
            return
        for i in range(len(h.epoch)):
            self.history_.append(len(self.history_.epoch),
                                 {k: v[i] for k, v in h.history.items()})

    def fit(self, X, y, **fit_params):
        """Train for max_epochs epochs from a new module (or, with warm_start=True and
        already fitted, go on training it); returns self."""
        if fit_params:
            raise TypeError(f"fit: unexpected arguments {sorted(fit_params)}")
        self._check_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None")
        if not (self.warm_start and self.__sklearn_is_fitted__()):
            return self._fit_new(X, y)
        return self.partial_fit(X, y)

    def _fit_new(self, X, y):
        X, y = self._validate(X, y, reset=True)
        self._prepare_targets(y, reset=True)
        self._initialize(X, y)
        return self._train(X, y, self.max_epochs)

    def partial_fit(self, X, y, classes=None):
        """Go on training the fitted module for max_epochs epochs (skorch); the first
        call initializes it as fit does."""
        self._check_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None")
        if not self.__sklearn_is_fitted__():
            X, y = self._validate(X, y, reset=True)
            self._prepare_targets(y, reset=True, classes=classes)
            self._initialize(X, y)
        else:
            X, y = self._validate(X, y, reset=False)
            self._prepare_targets(y, reset=False)
        return self._train(X, y, self.max_epochs)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def forward(self, X):
        """The module's raw outputs for X as a NumPy array (eval mode, no_grad)."""
        from ..train import predict
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        out = predict(self.module_, _cr().from_numpy(X), batch_size=self.batch_size)
        return np.asarray(out.detach().numpy())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
