"""Changes a fix makes to a built model when build_model cannot make them itself: a
weight initialisation and the hidden activation."""

__all__ = ["apply_init", "apply_activation", "INITS", "ACTIVATION_CLASSES"]

INITS = ("default", "normal", "xavier", "kaiming")
ACTIVATION_CLASSES = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh",
                      "leaky_relu": "LeakyReLU", "gelu": "GELU", "elu": "ELU", "silu": "SiLU"}


def _weighted(model):
    from .. import nn
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]


def apply_init(model, scheme, activation="relu"):
    """Re-initialise every linear and convolution layer: 'default' (PyTorch's uniform),
    'normal' (N(0, 0.01^2), d2l's), 'xavier' (uniform) or 'kaiming' (normal, with the
    activation's gain); biases start at zero except under 'default'."""
    from .. import nn
    if scheme not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}; got {scheme!r}")
    gain_of = activation if activation in ("relu", "tanh", "sigmoid", "leaky_relu") else "relu"
    for m in _weighted(model):
        if scheme == "default":
            m.reset_parameters()
            continue
        if scheme == "normal":
            nn.init.normal_(m.weight, 0.0, 0.01)
        elif scheme == "xavier":
            nn.init.xavier_uniform_(m.weight)
        else:
            nn.init.kaiming_normal_(m.weight, nonlinearity=gain_of)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    return model


def apply_activation(model, name):
    """Swap every activation module for `name`'s (e.g. Sigmoid -> ReLU)."""
    from .. import nn
    if name not in ACTIVATION_CLASSES:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATION_CLASSES)}; got {name!r}")
    known = tuple(getattr(nn, c) for c in ACTIVATION_CLASSES.values())
    new_class = getattr(nn, ACTIVATION_CLASSES[name])
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, known):
                setattr(parent, child_name, new_class())
    return model
