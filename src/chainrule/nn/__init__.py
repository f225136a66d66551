"""``chainrule.nn``: feed-forward networks as plain functions of parameter pytrees.

The whole story in six lines::

    from chainrule import nn, value_and_grad
    net = nn.Network({"h1": nn.Dense(64, "tanh", inputs=["x"]),
                      "out": nn.Dense(10, inputs=["h1", "x"])}, input_dim=64)   # skip layer
    params = net.init(seed=0)                       # {"h1": {"W": {"x": ...}, "b": ...}, ...}
    loss = lambda p, x, t: nn.softmax_cross_entropy(net.apply(p, x), t)
    opt = nn.Adam(1e-3); state = opt.init(params)
    for xb, tb in nn.batches(x, t, 32, seed=(0, epoch)):
        value, g = value_and_grad(loss)(params, xb, tb)
        params, state = opt.update(params, g, state)

See docs/nn.md.
"""

from .activations import (
    ACTIVATIONS,
    gelu,
    get_activation,
    identity,
    logsumexp,
    relu,
    sigmoid,
    softmax,
    stop_gradient,
    tanh,
)
from .data import (
    DataError,
    Table,
    batches,
    digits_path,
    fit_standardizer,
    load_digits,
    num_batches,
    read_table,
    standardize,
    train_test_split,
)
from .io import ModelFileError, load, load_model, save
from .layers import Dense, Linear, Network, ParamShapeError, mlp
from .losses import l2_penalty, one_hot, sigmoid_cross_entropy, softmax_cross_entropy, sum_of_squares
from .metrics import accuracy, predict_classes, rmse
from .optim import SGD, Adam, Optimizer, cosine_decay, tree_items

__all__ = [
    "ACTIVATIONS", "Adam", "DataError", "Dense", "Linear", "ModelFileError", "Network", "Optimizer",
    "ParamShapeError", "SGD", "Table", "accuracy", "batches", "cosine_decay", "digits_path",
    "fit_standardizer",
    "gelu", "get_activation", "identity", "l2_penalty", "load", "load_digits", "load_model",
    "logsumexp", "mlp", "num_batches", "one_hot", "predict_classes", "read_table", "relu", "rmse",
    "save", "sigmoid", "sigmoid_cross_entropy", "softmax", "softmax_cross_entropy", "standardize",
    "stop_gradient", "sum_of_squares", "tanh", "train_test_split", "tree_items",
]
