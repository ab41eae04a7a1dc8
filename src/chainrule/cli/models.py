"""The networks the command line can build (d2l ch. 3-7): linear regression, softmax
regression, a multilayer perceptron, LeNet and a small ResNet (conv_models.py), rebuilt
from a run's config for evaluate, predict and plot."""
import os

import numpy as np

from ..runtime.i18n import _
from . import conv_models
from ._common import CLIError


def describe(cfg, input_dim, output_dim, image_shape=None):
    if cfg["model"] in conv_models.CONV_MODELS:
        return conv_models.describe(cfg["model"], image_shape, output_dim)
    if cfg["model"] in ("linear", "softmax"):
        return f"{cfg['model']} {input_dim}-{output_dim}"
    widths = "-".join(str(w) for w in [input_dim, *cfg["hidden"], output_dim])
    extra = _(", dropout {p:g}").format(p=cfg["dropout"]) if cfg["dropout"] else ""
    return f"mlp {widths}, {cfg['activation']}{extra}"


def build(cfg, input_dim, output_dim, task, image_shape=None, data_name="the data set"):
    """`image_shape`: (height, width) of image data (None for tables), which the
    convolutional models need."""
    import chainrule
    from chainrule import nn
    if cfg["model"] in conv_models.CONV_MODELS:  # images first: a table is the likelier slip
        conv_models.check_images(cfg["model"], image_shape, data_name)
    if cfg["model"] in ("softmax", *conv_models.CONV_MODELS) and task != "classification":
        raise CLIError(_("--model {model} is for classification; use --model linear or mlp "
                         "for this regression data").format(model=cfg["model"]))
    if cfg["model"] == "mlp" and not cfg["hidden"]:
        raise CLIError(_("--model mlp needs at least one hidden layer (--hidden 256)"))
    chainrule.manual_seed(int(cfg["seed"]))
    if cfg["model"] in conv_models.CONV_MODELS:
        model = conv_models.build(cfg["model"], image_shape, output_dim, data_name)
        initialise(model, cfg["init"], "relu" if cfg["model"] == "resnet" else "sigmoid")
        return model
    activations = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    layers, width = [], input_dim
    if cfg["model"] == "mlp":
        for h in cfg["hidden"]:
            layers += [nn.Linear(width, h), activations[cfg["activation"]]()]
            if cfg["dropout"]:
                layers.append(nn.Dropout(cfg["dropout"]))
            width = h
    layers.append(nn.Linear(width, output_dim))
    model = nn.Sequential(*layers)
    initialise(model, cfg["init"], cfg["activation"])
    return model


def build_for(cfg, data):
    """The model of the settings `cfg` for a DataBundle."""
    return build(cfg, data.input_dim, data.output_dim, data.task,
                 image_shape_of(data.transform), data.name)


def describe_for(cfg, data):
    return describe(cfg, data.input_dim, data.output_dim, image_shape_of(data.transform))


def initialise(model, scheme, activation):
    from chainrule import nn
    if scheme == "default":
        return
    for m in model.modules():
        if not isinstance(m, (nn.Linear, nn.Conv2d)):
            continue
        if scheme == "normal":  # d2l's init_weights: N(0, 0.01^2)
            nn.init.normal_(m.weight, 0.0, 0.01)
        elif scheme == "xavier":
            nn.init.xavier_uniform_(m.weight)
        else:  # He init, matched to the activation's gain
            nonlinearity = activation if activation in ("relu", "tanh", "sigmoid") else "relu"
            nn.init.kaiming_normal_(m.weight, nonlinearity=nonlinearity)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def loss_for(task):
    from chainrule import nn
    return nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()


def optimizer_factory(cfg):
    """params -> optimizer, so that K-fold can build one per fold."""
    import chainrule
    lr, wd = float(cfg["lr"]), float(cfg["weight_decay"])
    if cfg["optimizer"] == "sgd":
        return lambda params: chainrule.optim.SGD(params, lr=lr, momentum=float(cfg["momentum"]),
                                                  weight_decay=wd)
    return lambda params: chainrule.optim.Adam(params, lr=lr, weight_decay=wd)


def load_trained(run):
    """(model with the run's final weights, config, transform) of a run folder."""
    import chainrule
    from . import runs
    from .config import CONVERTERS, defaults
    cfg = dict(defaults(), **run.config())
    transform = run.read_json(runs.TRANSFORM)
    unknown = [k for k in ("model", "task") if cfg.get(k) is None]
    if unknown or cfg["kfold"]:
        raise CLIError(_("{path} holds a K-fold result, not a trained model; train one "
                         "without --kfold").format(path=run.path) if cfg.get("kfold") else
                       _damaged_config(run, unknown[0]))
    for key in CONVERTERS:
        if key not in cfg:
            raise CLIError(_damaged_config(run, key))
    path = run.file(runs.MODEL)
    if not os.path.isfile(path):
        raise CLIError(_("{path} is missing: the run did not finish; continue it with "
                         "`chainrule train --resume {run}`").format(path=path, run=run.path))
    try:
        weights = chainrule.load_safetensors(path)
    except (ValueError, OSError) as err:
        raise CLIError(_("{path} is not a valid safetensors file ({error})").format(
            path=path, error=err)) from None
    task = cfg["task"]
    output_dim = len(transform["classes"]) if task == "classification" else 1
    input_dim = (len(transform["columns"]) if "columns" in transform
                 else int(np.prod(transform["shape"])))
    model = build(cfg, input_dim, output_dim, task, image_shape_of(transform))
    try:
        model.load_state_dict(weights)
    except (KeyError, RuntimeError, ValueError) as err:
        raise CLIError(_("{path} does not match the model in config.json ({error})").format(
            path=path, error=err)) from None
    model.eval()
    return model, cfg, transform


def _damaged_config(run, key):
    return _("{path}/config.json lacks {key!r}; the run folder is damaged").format(
        path=run.path, key=key)


def image_shape_of(transform):
    """(height, width) of a run's image data, None for tables and features."""
    shape = transform.get("shape") if transform.get("kind") == "image" else None
    return tuple(int(s) for s in shape) if shape and len(shape) == 2 else None
