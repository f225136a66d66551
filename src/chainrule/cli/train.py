"""``chainrule train`` and ``chainrule predict``: fit a feed-forward network to a table, use it.

    chainrule train                                   # the bundled 8x8 digits, defaults below
    chainrule train --data houses.csv --target price --hidden 32,16 --epochs 200
    chainrule predict --model runs/digits-.../model.npz --data new.csv --out predictions.csv

A run folder holds ``model.npz`` (parameters + network + preprocessing; rewritten atomically
whenever the validation loss improves, so it always holds the best epoch so far: early stopping,
Ctrl-C and divergence all leave it there), ``metrics.json`` and ``training.png``.

Every loss shown or stored is the mean error per example without the weight penalty; settings not
given are adapted to the training set's size (:func:`adaptive_defaults`).

Task: classification (softmax + cross-entropy) unless ``--task regression``, or, with the default
``--task auto``, when the target column is not class-like: numbers that are not all integers, or
integers with more than 50 distinct values, are a regression target (sum-of-squares error).
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import gzip
import json
import math
import os
import sys
import time

import numpy as np

from .. import nn
from ..core.pytree import tree_leaves
from ..gradcheck import GradCheckError, check_grads
from ..nn.data import column_names, separator, sniff_delimiter
from ..nn.metrics import r2_score
from ..transforms import value_and_grad
from .errors import CLIError, did_you_mean

# Fixed defaults. hidden, epochs, lr, batch_size and weight_decay default to None: adaptive_defaults
# picks them from the training set's size (the bundled digits get the settings tuned on them,
# 10 seeds: mean held-out accuracy 98.3%, worst 97.2%).
DEFAULTS = {"hidden": None, "activation": "relu", "epochs": None, "lr": None, "batch_size": None,
            "optimizer": "adam", "schedule": "cosine", "momentum": 0.9, "weight_decay": None,
            "test_fraction": 0.2, "val_fraction": 0.1, "patience": None, "seed": 0}
MAX_CLASSES = 50
GRADCHECK_EXAMPLES = 4
DIVERGENCE_FACTOR = 100.0  # a step loss this many times the first one (or non-finite) = diverged


# ====================================================================== argument parsing

class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except the unset ones (None) and off switches."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _separator(text: str) -> str:
    try:
        return separator(text)
    except nn.DataError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def register(subparsers) -> None:
    """Add the ``train`` and ``predict`` subcommands to the ``chainrule`` parser."""
    t = subparsers.add_parser(
        "train", help="train a feed-forward network (default: the bundled 8x8 digits)",
        description="Train a feed-forward network by backpropagation with chainrule. Without "
                    "--data it learns the bundled 8x8 handwritten digits (1,797 images).",
        formatter_class=_HelpFormatter)
    t.add_argument("--data", default="digits",
                   help="CSV/TSV (optionally .gz) or NPZ file, or 'digits' for the bundled data set")
    t.add_argument("--sep", default=None, type=_separator,
                   help="field separator of a text table, e.g. ';' or '\\t' (default: detected "
                        "among , ; tab |)")
    t.add_argument("--target", default=None,
                   help="target column: a header name or an index (negative counts from the end); "
                        "default: the last column")
    t.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                   help="auto: classification unless the target is continuous (non-integer numbers, "
                        f"or more than {MAX_CLASSES} distinct integers)")
    t.add_argument("--hidden", default=DEFAULTS["hidden"],
                   help="hidden layer sizes, comma separated (e.g. 128,64); 'none' for a linear model; "
                        "default: adapted to the data's size (see chainrule.cli.train.adaptive_defaults)")
    t.add_argument("--activation", default=DEFAULTS["activation"],
                   choices=("tanh", "sigmoid", "relu", "gelu"), help="hidden-unit activation")
    t.add_argument("--skip", action="store_true",
                   help="add a skip-layer connection from the input straight to the output layer")
    t.add_argument("--epochs", type=_positive_int, default=DEFAULTS["epochs"],
                   help="most passes over the training set (early stopping may end sooner); "
                        "default: adapted to the data's size")
    t.add_argument("--lr", type=_positive_float, default=DEFAULTS["lr"],
                   help="(initial) learning rate; default: adapted to the data's size")
    t.add_argument("--schedule", choices=("cosine", "constant"), default=DEFAULTS["schedule"],
                   help="learning-rate schedule: cosine decay to 0 over the run, or constant")
    t.add_argument("--batch-size", type=_positive_int, default=DEFAULTS["batch_size"],
                   help="examples per gradient step (mini-batch, reshuffled every epoch); "
                        "default: adapted to the data's size")
    t.add_argument("--optimizer", choices=("adam", "sgd"), default=DEFAULTS["optimizer"],
                   help="Adam, or SGD with --momentum")
    t.add_argument("--momentum", type=float, default=DEFAULTS["momentum"], help="SGD momentum")
    t.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"],
                   help="lam: training minimises the mean error per example + lam/2 |w|^2 (weights, not "
                        "biases); default: adapted to the data's size")
    t.add_argument("--test-fraction", type=float, default=DEFAULTS["test_fraction"],
                   help="share of the data held out for testing")
    t.add_argument("--val-fraction", type=float, default=DEFAULTS["val_fraction"],
                   help="share of the training rows held out for validation: training stops when "
                        "the validation loss has not improved for --patience epochs and the best "
                        "epoch's parameters are kept; 0 trains every epoch and keeps the last")
    t.add_argument("--patience", type=_positive_int, default=DEFAULTS["patience"],
                   help="early stopping: epochs without a better validation loss before stopping; "
                        "default: a fifth of --epochs, at least 10")
    t.add_argument("--features", default=None,
                   help="use only these feature columns (comma-separated header names)")
    t.add_argument("--drop", default=None,
                   help="leave out these columns (comma-separated header names), e.g. an id column")
    t.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                   help="seeds the split, the initial weights and the batch order")
    t.add_argument("--out", default=None,
                   help="run folder (default: ./runs/<data>-<date>-<time>)")
    t.add_argument("--no-gradcheck", action="store_true",
                   help="skip the gradient check against central differences before training")
    t.add_argument("--no-plot", action="store_true", help="do not write training.png")
    t.add_argument("--progress", choices=("auto", "rich", "tqdm", "plain", "none"), default="auto",
                   help="progress display; auto: a bar on a terminal, one line per epoch otherwise")
    t.add_argument("--blas-threads", type=int, default=1,
                   help="cap OpenBLAS threads (these matrices are small; on a busy machine extra "
                        "BLAS threads only contend); 0 leaves BLAS alone")
    t.set_defaults(func=run_train)

    p = subparsers.add_parser(
        "predict", help="predict with a model saved by 'chainrule train'",
        description="Print (or write) the predictions of a trained model for every row of a data "
                    "file. The file has the training features, optionally plus the target column "
                    "(then the accuracy or RMSE is reported on stderr).")
    p.add_argument("--model", required=True, help="model.npz written by 'chainrule train'")
    p.add_argument("--data", required=True, help="CSV/TSV (optionally .gz) or NPZ file, or 'digits'")
    p.add_argument("--sep", default=None, type=_separator,
                   help="field separator of a text table (default: detected among , ; tab |)")
    p.add_argument("--out", default=None, help="write predictions to this CSV instead of stdout")
    p.add_argument("--proba", action="store_true",
                   help="classification: also output the class probabilities")
    p.set_defaults(func=run_predict)


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}")
    return v


def _positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}")
    return v


def _parse_hidden(s: str) -> list[int]:
    s = s.strip().lower()
    if s in ("", "none", "0"):
        return []
    try:
        sizes = [int(p) for p in s.split(",")]
    except ValueError:
        raise CLIError(f"--hidden {s!r}: expected comma-separated layer sizes such as 64 or 128,64") from None
    if any(n < 1 for n in sizes):
        raise CLIError(f"--hidden {s!r}: layer sizes must be positive")
    return sizes


# ====================================================================== data preparation

def _read(path: str, target, require_target: bool = True, features=None, sep=None):
    digits = path == "digits"
    if digits:
        path = nn.digits_path()
    try:
        table = nn.read_table(path, target=target, require_target=require_target, features=features,
                              sep=sep)
    except nn.DataError as e:
        raise CLIError(str(e)) from None
    if digits:
        table.feature_names = [f"pixel {j // 8},{j % 8}" for j in range(table.x.shape[1])]
        table.target_name = "digit" if table.t is not None else None
    return table


def _names(flag: str, text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise CLIError(f"{flag} {text!r}: expected comma-separated column names")
    return names


def _feature_columns(path: str, target, features: str | None, drop: str | None, sep=None):
    """The feature columns named by ``--features`` or left by ``--drop`` (None: every column but
    the target). Read by name from the header, so a dropped column may hold text (an id, a name)."""
    if features is None and drop is None:
        return None
    if features is not None and drop is not None:
        raise CLIError("give --features or --drop, not both")
    flag = "--features" if features is not None else "--drop"
    try:
        header = None if path == "digits" else column_names(path, sep)
    except nn.DataError as e:
        raise CLIError(str(e)) from None
    if header is None:
        raise CLIError(f"{flag} names columns, but {path} has no header row to find them by")
    if target is None:
        tname = header[-1]
    elif target in header:
        tname = target
    else:
        try:
            tname = header[int(target)]
        except (ValueError, IndexError):
            tname = None  # read_table reports the bad --target
    names = _names(flag, features if features is not None else drop)
    unknown = [n for n in names if n not in header]
    if unknown:
        shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        raise CLIError(f"{flag}: no column named {unknown[0]!r}{did_you_mean(unknown[0], header)} "
                       f"(columns: {shown})")
    if tname in names and features is not None:
        raise CLIError(f"--features lists the target column {tname!r}")
    if tname in names:
        raise CLIError(f"--drop lists the target column {tname!r}; choose another with --target")
    if features is not None:
        return names
    kept = [h for h in header if h != tname and h not in names]
    if not kept:
        raise CLIError(f"--drop leaves no feature columns besides the target {tname!r}")
    return kept


def _decide_task(t, task: str) -> str:
    if t.dtype.kind in "US":
        if task == "regression":
            raise CLIError("--task regression needs a numeric target, but the target column holds "
                           f"text such as {str(t[0])!r}")
        return "classification"
    if task != "auto":
        return task
    integral = bool(np.all(np.equal(np.mod(t, 1), 0)))
    return "classification" if integral and len(np.unique(t)) <= MAX_CLASSES else "regression"


def _default_run_dir(data: str) -> str:
    stem = "digits" if data == "digits" else os.path.basename(data).split(".")[0] or "data"
    base = os.path.join("runs", f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, k = base, 2
    while os.path.exists(path):
        path, k = f"{base}-{k}", k + 1
    return path


def _label_list(classes):
    """Class labels as JSON-able Python values; integral numbers become ints (3.0 -> 3)."""
    out = [c.item() if hasattr(c, "item") else c for c in classes]
    if all(isinstance(c, float) and c.is_integer() for c in out):
        out = [int(c) for c in out]
    return out


# ====================================================================== progress display

class _Progress:
    """A rich or tqdm bar on a terminal; one plain line per epoch otherwise (pipes, logs, CI).

    Every loss shown is the mean error per example without the weight penalty: the bar's batch
    loss, the epoch's train/val/test loss. The ETA assumes every requested epoch runs (early
    stopping can only make it shorter)."""

    def __init__(self, mode: str, epochs: int, steps: int):
        self.epochs, self.steps = epochs, steps
        self._bar = self._rich = self._task = None
        if mode == "auto":
            mode = "rich" if sys.stdout.isatty() else "plain"
        if mode == "rich":
            try:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                    TimeRemainingColumn,
                )
                self._rich = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
                                      TimeRemainingColumn(), TextColumn("{task.fields[stats]}"))
                self._task = self._rich.add_task("train", total=epochs * steps, epoch=f"1/{epochs}",
                                                 stats="")
                self._rich.start()
            except ImportError:
                mode = "tqdm"
        if mode == "tqdm":
            try:
                from tqdm import tqdm  # its bar shows elapsed<remaining
                self._bar = tqdm(total=epochs * steps, unit="step", file=sys.stdout, leave=True)
            except ImportError:
                mode = "plain"
        self.mode = mode

    def step(self, epoch: int, loss: float) -> None:
        if self._rich is not None:
            self._rich.update(self._task, advance=1, epoch=f"{epoch}/{self.epochs}",
                              stats=f"batch loss {loss:.4f}")
        elif self._bar is not None:
            self._bar.update(1)
            self._bar.set_description(f"epoch {epoch}/{self.epochs}", refresh=False)

    def epoch(self, row: dict, metric: str, elapsed: float) -> None:
        val = (f"val loss {row['val_loss']:.4f}  " if "val_loss" in row else "")
        text = (f"loss {row['train_loss']:.4f}  {val}test loss {row['test_loss']:.4f}  "
                f"{metric} {_fmt_metric(row['train_' + metric], metric)}  "
                f"test {metric} {_fmt_metric(row['test_' + metric], metric)}")
        short = (f"loss {row['train_loss']:.4f}  {val}test {metric} "
                 f"{_fmt_metric(row['test_' + metric], metric)}")
        if self._rich is not None:
            self._rich.update(self._task, stats=short)
        elif self._bar is not None:
            self._bar.set_postfix_str(short)
        elif self.mode == "plain":
            eta = elapsed / row["epoch"] * (self.epochs - row["epoch"])
            print(f"epoch {row['epoch']:>{len(str(self.epochs))}}/{self.epochs}  {text}  "
                  f"({row['seconds']:.1f} s, eta {_fmt_seconds(eta)})", flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        if self._bar is not None:
            self._bar.close()


def _fmt_seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {int(s % 60):02d} s"


def _fmt_metric(v: float, metric: str) -> str:
    return f"{100 * v:.2f}%" if metric == "accuracy" else f"{v:.4g}"


# ====================================================================== train

def adaptive_defaults(n_train: int, n_features: int) -> dict:
    """Settings for a training set of ``n_train`` rows, each used where its flag is not given.

    Small tables get small batches, so an epoch still holds several steps, and enough epochs for
    about 3,000 Adam steps (early stopping ends most runs far sooner); one hidden layer of 64 relu
    units below 1,000 rows, two of 128 above (the digits setting); weight decay grows as the data
    shrink: lam = clip(3 / n_train, 1e-3, 1e-2) on the mean error per example.

        batch_size = clip(n_train // 8, 8, 32)
        epochs     = clip(ceil(3000 / steps per epoch), 30, 500)
        lr         = 3e-3 (Adam, cosine decay over the run)
    """
    batch = int(min(32, max(8, n_train // 8)))
    steps = nn.num_batches(n_train, batch)
    return {"hidden": "128,128" if n_train >= 1000 else "64",
            "batch_size": batch,
            "epochs": int(min(500, max(30, math.ceil(3000 / steps)))),
            "lr": 3e-3,
            "weight_decay": float(f"{min(1e-2, max(1e-3, 3.0 / n_train)):.2g}")}


def run_train(args) -> int:
    started = time.perf_counter()
    if args.blas_threads > 0:
        _limit_blas_threads(args.blas_threads)
    if not 0 < args.test_fraction < 1:
        raise CLIError(f"--test-fraction must lie strictly between 0 and 1, got {args.test_fraction}")
    if not 0 <= args.val_fraction < 1:
        raise CLIError(f"--val-fraction must lie in [0, 1), got {args.val_fraction}")
    if args.weight_decay is not None and args.weight_decay < 0:
        raise CLIError(f"--weight-decay must be >= 0, got {args.weight_decay}")
    if args.optimizer == "sgd" and not 0 <= args.momentum < 1:
        raise CLIError(f"--momentum must lie in [0, 1), got {args.momentum}")
    if args.hidden is not None:
        _parse_hidden(args.hidden)  # a bad --hidden fails before the data are read

    table = _read(args.data, args.target, sep=args.sep,
                  features=_feature_columns(args.data, args.target, args.features, args.drop, args.sep))
    if len(table.x) < 2:
        raise CLIError(f"{table.source}: need at least 2 rows to train and test, found {len(table.x)}")
    task = _decide_task(table.t, args.task)
    meta = {"task": task, "data": os.path.abspath(table.source), "feature_names": table.feature_names,
            "target_name": table.target_name, "target_index": table.target_index,
            "has_header": table.has_header}
    if task == "classification":
        classes, labels = np.unique(table.t, return_inverse=True)
        if len(classes) < 2:
            raise CLIError(f"the target column {table.target_name!r} has a single value "
                           f"({_label_list(classes)[0]!r}); classification needs at least two classes")
        meta["classes"] = _label_list(classes)
        counts = np.bincount(labels)
        stratify = bool(counts.min() >= 2)
        y_all, n_out = labels.astype(np.int64), len(classes)
    else:
        y_all, n_out, stratify = table.t.astype(float)[:, None], 1, False
    try:
        x_tr, x_te, y_tr, y_te = nn.train_test_split(table.x, y_all, args.test_fraction,
                                                     seed=args.seed, stratify=stratify)
        x_va = y_va = None
        if args.val_fraction > 0:
            strat_va = stratify and bool(np.bincount(y_tr, minlength=n_out).min() >= 2)
            x_tr, x_va, y_tr, y_va = nn.train_test_split(x_tr, y_tr, args.val_fraction,
                                                         seed=(args.seed, 1), stratify=strat_va)
    except ValueError as e:
        raise CLIError(str(e)) from None
    auto = adaptive_defaults(len(x_tr), x_tr.shape[1])
    adapted = [k for k in auto if getattr(args, k) is None]
    for k in adapted:
        setattr(args, k, auto[k])
    hidden = _parse_hidden(args.hidden)
    patience = args.patience or max(10, args.epochs // 5)
    mean, std = nn.fit_standardizer(x_tr)
    x_tr, x_te = nn.standardize(x_tr, mean, std), nn.standardize(x_te, mean, std)
    if x_va is not None:
        x_va = nn.standardize(x_va, mean, std)
    meta.update(x_mean=mean, x_std=std)
    if task == "regression":
        t_mean, t_std = nn.fit_standardizer(y_tr)
        y_tr, y_te = nn.standardize(y_tr, t_mean, t_std), nn.standardize(y_te, t_mean, t_std)
        if y_va is not None:
            y_va = nn.standardize(y_va, t_mean, t_std)
        meta.update(t_mean=t_mean, t_std=t_std)

    net = nn.mlp(x_tr.shape[1], hidden, n_out, args.activation)
    if args.skip and hidden:
        layers = dict(net.layers)
        layers["out"] = nn.Dense(n_out, None, ("x",) + tuple(layers["out"].inputs))
        net = nn.Network(layers, input_dim=x_tr.shape[1])
    params = net.init(args.seed)
    error = nn.softmax_cross_entropy if task == "classification" else nn.sum_of_squares
    lam = args.weight_decay

    def objective(p, x, t):
        """(E / N + lam/2 |w|^2, E / N): what is minimised (Bishop's E~ / N with his lambda = N lam),
        and the mean error per example, the one loss every display reports."""
        e = error(net.apply(p, x), t)
        return (e + nn.l2_penalty(p, lam) if lam else e), e

    def loss(p, x, t):
        return objective(p, x, t)[0]

    metric = "accuracy" if task == "classification" else "rmse"
    out_dir = args.out or _default_run_dir(args.data)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create the run folder {out_dir}: {e.strerror}") from None
    model_path = os.path.join(out_dir, "model.npz")

    print(f"data: {table.source if args.data != 'digits' else 'bundled 8x8 digits'} - "
          f"{len(table.x)} rows, {x_tr.shape[1]} features, target {table.target_name!r}; "
          f"{task}" + (f" into {n_out} classes" if task == "classification" else ""))
    print(f"split: {len(x_tr)} train / {0 if x_va is None else len(x_va)} validation / "
          f"{len(x_te)} test (seed {args.seed}); network "
          f"{' -> '.join([str(x_tr.shape[1])] + [str(h) for h in hidden] + [str(n_out)])}"
          f"{' + skip' if args.skip and hidden else ''}, {args.activation}, "
          f"{net.num_params()} parameters")
    if adapted:
        print("adapted to the data: " + ", ".join(f"--{k.replace('_', '-')} {getattr(args, k)}"
                                                  for k in adapted))
    print("loss = mean " + ("cross-entropy" if task == "classification" else "1/2 squared error")
          + " per example" + (f" (training also minimises + {lam:g}/2 |w|^2, not shown)" if lam else ""))

    gradcheck = None
    if not args.no_gradcheck:
        gradcheck = _gradient_check(loss, params, x_tr, y_tr, args.seed)

    steps = nn.num_batches(len(x_tr), args.batch_size)
    lr = nn.cosine_decay(args.lr, args.epochs * steps) if args.schedule == "cosine" else args.lr
    if args.optimizer == "adam":
        opt = nn.Adam(lr)
    else:
        opt = nn.SGD(lr, momentum=args.momentum)
    state = opt.init(params)
    evaluate = _evaluator(net, error, task, x_tr, y_tr, x_va, y_va, x_te, y_te, meta)
    value_and_grad = _value_and_grad(objective)

    history: list[dict] = []
    best = {"epoch": 0, "params": params, "val_loss": math.inf}
    nn.save(model_path, params, net, _model_meta(meta, 0, args))
    progress = _Progress(args.progress, args.epochs, steps)
    training_started = time.perf_counter()  # the ETA counts training only, not reading or checks
    first_loss = None
    diverged = interrupted = None
    stopped_early = False
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for epoch in range(1, args.epochs + 1):
                t0 = time.perf_counter()
                done = 0  # steps completed this epoch
                try:
                    for step, (xb, tb) in enumerate(nn.batches(x_tr, y_tr, args.batch_size,
                                                               seed=(args.seed, epoch)), 1):
                        (value, err), grads = value_and_grad(params, xb, tb)
                        value = float(value)
                        if first_loss is None:
                            first_loss = value
                        if not _healthy(value, grads, first_loss):
                            diverged = (epoch, step, value)
                            break
                        params, state = opt.update(params, grads, state)
                        done += 1
                        progress.step(epoch, float(err))
                except KeyboardInterrupt:
                    # finish this epoch's bookkeeping (metrics, plot, model) with what it reached
                    interrupted = (epoch, done)
                if diverged is None and (interrupted is None or done > 0):
                    row = {"epoch": epoch, **evaluate(params), "seconds": time.perf_counter() - t0}
                    if interrupted is not None:
                        row["steps"] = done
                    if not all(math.isfinite(v) for v in row.values()) or \
                            row["train_loss"] > DIVERGENCE_FACTOR * max(first_loss, 1.0):
                        diverged = (epoch, steps, row["train_loss"])
                if diverged is not None or (interrupted is not None and done == 0):
                    break
                history.append(row)
                score = row["val_loss"] if x_va is not None else -epoch  # no validation: the last
                if score < best["val_loss"]:
                    best = {"epoch": epoch, "params": params, "val_loss": score}
                    nn.save(model_path, params, net, _model_meta(meta, epoch, args))
                progress.epoch(row, metric, time.perf_counter() - training_started)
                if interrupted is not None:
                    break
                if x_va is not None and epoch - best["epoch"] >= patience:
                    stopped_early = True
                    break
    except KeyboardInterrupt:  # between steps (evaluating, saving): keep what the epochs reached
        interrupted = interrupted or (len(history), 0)
    finally:
        progress.close()

    wall = time.perf_counter() - started
    status = "diverged" if diverged else "interrupted" if interrupted else "ok"
    final = next((r for r in history if r["epoch"] == best["epoch"]), None)
    summary = {"status": status, "task": task, "metric": metric,
               "loss": "mean " + ("cross-entropy" if task == "classification" else "1/2 squared error")
                       + " per example (the weight penalty excluded)",
               "data": meta["data"], "target": table.target_name, "features": table.feature_names,
               "n_train": len(x_tr), "n_val": 0 if x_va is None else len(x_va), "n_test": len(x_te),
               "classes": meta.get("classes"), "network": net.to_config(),
               "num_params": net.num_params(), "hidden": args.hidden,
               "optimizer": {"name": args.optimizer, "lr": args.lr, "schedule": args.schedule,
                             "batch_size": args.batch_size,
                             **({"momentum": args.momentum} if args.optimizer == "sgd" else {}),
                             "weight_decay": args.weight_decay},
               "adapted": adapted, "epochs_requested": args.epochs, "epochs_completed": len(history),
               "patience": patience if x_va is not None else None, "stopped_early": stopped_early,
               "best_epoch": best["epoch"], "seed": args.seed,
               "gradcheck_worst_rel_error": gradcheck, "history": history,
               "final": final, "wall_seconds": round(wall, 3),
               "model": os.path.abspath(model_path), "argv": sys.argv[1:]}
    if diverged:
        summary["diverged_at"] = {"epoch": diverged[0], "step": diverged[1], "loss": diverged[2]}
    if interrupted:
        summary["interrupted_at"] = {"epoch": interrupted[0], "step": interrupted[1]}
    _write_json(os.path.join(out_dir, "metrics.json"), summary)
    plot_note = ""
    if not args.no_plot and history:
        parity = None
        if task == "regression" and best["epoch"]:
            pred = np.asarray(net.apply(best["params"], x_te))[:, 0] * meta["t_std"][0] + meta["t_mean"][0]
            parity = (y_te[:, 0] * meta["t_std"][0] + meta["t_mean"][0], pred)
        plot_note = _plot(os.path.join(out_dir, "training.png"), history, metric, best["epoch"], parity)

    if diverged:
        epoch, step, value = diverged
        raise CLIError(
            f"training diverged at epoch {epoch}, step {step}: loss {value:.3g} (first batch "
            f"{first_loss:.3g}); stopped. {model_path} keeps the last good parameters "
            f"(epoch {best['epoch']}); try a smaller --lr (now {args.lr:g})")
    if final is None:  # interrupted before the first step
        print(f"interrupted before training: {model_path} holds the initial parameters",
              file=sys.stderr)
        return 130
    how = (f"interrupted at epoch {interrupted[0]}, step {interrupted[1]}/{steps}" if interrupted
           else f"stopped early at epoch {len(history)}" if stopped_early
           else f"{len(history)} epochs")
    kept = (f"best validation loss at epoch {best['epoch']}, kept" if x_va is not None
            else f"epoch {best['epoch']} kept")
    extra = f", test R^2 {final['test_r2']:.4f}" if task == "regression" else ""
    print(f"done in {wall:.1f} s ({how}; {kept}): test {metric} "
          f"{_fmt_metric(final['test_' + metric], metric)}{extra}, "
          f"train {metric} {_fmt_metric(final['train_' + metric], metric)}, test loss "
          f"{final['test_loss']:.4f}")
    if task == "classification":
        chance = float(np.bincount(y_tr, minlength=n_out).max() / len(y_tr))
        if final["train_accuracy"] <= chance + 1e-12:
            print(f"warning: training accuracy {100 * final['train_accuracy']:.2f}% is at or below "
                  f"chance ({100 * chance:.2f}%, always answering the most common class): the "
                  "network learned nothing; try more --epochs, a larger --lr, or hidden units",
                  file=sys.stderr)
    print(f"run folder: {out_dir}  (model.npz, metrics.json{', training.png' if plot_note == 'ok' else ''})")
    if plot_note not in ("", "ok"):
        print(plot_note)
    if interrupted:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


_OPENBLAS_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
                     "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_")


def _limit_blas_threads(n: int) -> bool:
    """Cap the BLAS thread pool at ``n`` for this process; returns whether a limit was applied.

    Mini-batch matrices (32 x 128) gain nothing from BLAS threads, and on a loaded 2-core machine
    OpenBLAS's spinning threads made a 4 s run take 14-45 s. Uses threadpoolctl when installed,
    otherwise OpenBLAS's own setter found among the loaded libraries (Linux); else does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(n, user_api="blas")
        return True

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return False
    done = False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _OPENBLAS_SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                done = True
                break
    return done


def _value_and_grad(objective):
    """``((loss, aux), grads)`` of an ``objective`` returning ``(loss, aux)``."""
    return value_and_grad(objective, has_aux=True)


def _healthy(value: float, grads, first_loss: float) -> bool:
    if not math.isfinite(value) or value > DIVERGENCE_FACTOR * max(first_loss, 1.0):
        return False
    return all(np.all(np.isfinite(g)) for g in tree_leaves(grads))


def _gradient_check(loss, params, x, t, seed) -> float:
    """Reverse-mode gradient vs central differences on a few examples; returns the worst error."""
    xb, tb = x[:GRADCHECK_EXAMPLES], t[:GRADCHECK_EXAMPLES]
    t0 = time.perf_counter()
    try:
        report = check_grads(lambda p: loss(p, xb, tb), modes=("rev",), order=1, seed=seed)(params)
    except GradCheckError as e:
        detail = " ".join(str(e).split())
        raise CLIError(f"gradient check failed before training: {detail}") from None
    print(f"gradient check (reverse mode vs central differences, {len(xb)} examples, "
          f"{len(report.rows)} parameter arrays): worst relative error {report.worst:.2e} "
          f"({time.perf_counter() - t0:.2f} s)")
    return report.worst


def _evaluator(net, error, task, x_tr, y_tr, x_va, y_va, x_te, y_te, meta):
    """Loss (the mean error per example, no weight penalty) and accuracy (classification), or RMSE
    in the target's units and R^2 (regression), on the train, validation and test rows."""
    def measure(params, x, y):
        out = net.apply(params, x)
        row = {"loss": float(error(out, y))}
        if task == "classification":
            row["accuracy"] = nn.accuracy(out, y)
        else:
            row["rmse"] = nn.rmse(out * meta["t_std"], y * meta["t_std"])
            row["r2"] = r2_score(out, y)
        return row

    parts = [("train", x_tr, y_tr), ("val", x_va, y_va), ("test", x_te, y_te)]

    def evaluate(params):
        return {f"{name}_{k}": v for name, x, y in parts if x is not None
                for k, v in measure(params, x, y).items()}

    return evaluate


def _model_meta(meta: dict, epoch: int, args) -> dict:
    return {**meta, "epoch": epoch, "trained_with": "chainrule train",
            "hyperparameters": {"hidden": args.hidden, "activation": args.activation,
                                "skip": args.skip, "epochs": args.epochs, "lr": args.lr,
                                "schedule": args.schedule, "weight_decay": args.weight_decay,
                                "batch_size": args.batch_size, "optimizer": args.optimizer,
                                "seed": args.seed}}


def _write_json(path: str, obj) -> None:
    def default(o):
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        raise TypeError(type(o).__name__)

    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, default=default)
        f.write("\n")
    os.replace(tmp, path)


def _plot(path: str, history: list[dict], metric: str, best_epoch: int = 0, parity=None) -> str:
    """Loss and accuracy/RMSE per epoch (the kept epoch marked), plus, for regression, the test
    rows' predictions against their targets (a parity plot: on the diagonal is exact), written
    with matplotlib's Agg canvas (no display needed)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return "matplotlib is not installed: no training.png (pip install 'chainrule[train]')"
    epochs = [r["epoch"] for r in history]
    parts = [p for p in ("train", "val", "test") if f"{p}_loss" in history[0]]
    fig = Figure(figsize=(13.5 if parity else 9, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3 if parity else 2)
    ax1, ax2 = axes[0], axes[1]
    for p, mark in zip(parts, "o^s", strict=False):
        ax1.plot(epochs, [r[f"{p}_loss"] for r in history], mark + "-", ms=3, label=p)
    ax1.set(xlabel="epoch", ylabel="mean error per example", title="loss (no weight penalty)")
    if all(r[f"{p}_loss"] > 0 for r in history for p in parts):
        ax1.set_yscale("log")
    scale = 100.0 if metric == "accuracy" else 1.0
    for p, mark in zip(parts, "o^s", strict=False):
        ax2.plot(epochs, [scale * r[f"{p}_{metric}"] for r in history], mark + "-", ms=3, label=p)
    ax2.set(xlabel="epoch", ylabel="accuracy (%)" if metric == "accuracy" else "RMSE", title=metric)
    for ax in (ax1, ax2):
        if best_epoch:
            ax.axvline(best_epoch, color="0.5", ls="--", lw=1, label=f"kept (epoch {best_epoch})")
        ax.grid(alpha=0.3)
        ax.legend()
    if parity:
        truth, pred = parity
        ax3 = axes[2]
        ax3.scatter(truth, pred, s=10, alpha=0.7)
        lo, hi = float(min(truth.min(), pred.min())), float(max(truth.max(), pred.max()))
        ax3.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax3.set(xlabel="target", ylabel="prediction", title=f"test rows (R^2 {r2_score(pred, truth):.3f})")
        ax3.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    return "ok"


# ====================================================================== predict

def run_predict(args) -> int:
    net, params, meta = _load_for_prediction(args.model)
    table = _read_for_prediction(args.data, meta, net.input_dim, args.sep)
    for note in table.notes:
        print(f"chainrule predict: note: {note}", file=sys.stderr)
    x = nn.standardize(table.x, np.asarray(meta["x_mean"]), np.asarray(meta["x_std"]))
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(net.apply(params, x))
    lines = []
    if meta["task"] == "classification":
        classes = meta["classes"]
        proba = np.asarray(nn.softmax(out))
        pred = [classes[i] for i in np.argmax(out, axis=-1)]
        header = ["prediction"] + ([f"p({_fmt_label(c)})" for c in classes] if args.proba else [])
        for i, p in enumerate(pred):
            lines.append([_fmt_label(p)] + ([f"{v:.6g}" for v in proba[i]] if args.proba else []))
        if table.t is not None:
            truth = [_parse_label(v, classes) for v in table.t]
            acc = float(np.mean([a == b for a, b in zip(pred, truth, strict=True)]))
            print(f"accuracy on the {len(pred)} labelled rows of {table.source}: {100 * acc:.2f}%",
                  file=sys.stderr)
    else:
        values = out[:, 0] * meta["t_std"][0] + meta["t_mean"][0]
        header = ["prediction"]
        lines = [[f"{v:.10g}"] for v in values]
        if table.t is not None:
            rmse = float(np.sqrt(np.mean((values - np.asarray(table.t, dtype=float)) ** 2)))
            print(f"RMSE on the {len(values)} rows of {table.source}: {rmse:.6g}", file=sys.stderr)
    if args.out:
        try:
            tmp = args.out + ".tmp"
            with open(tmp, "w") as f:
                f.write(",".join(header) + "\n")
                f.writelines(",".join(r) + "\n" for r in lines)
            os.replace(tmp, args.out)
        except OSError as e:
            raise CLIError(f"cannot write {args.out}: {e.strerror}") from None
        print(f"wrote {len(lines)} predictions to {args.out}", file=sys.stderr)
    else:
        text = (",".join(header) + "\n" if args.proba else "") + "".join(",".join(r) + "\n" for r in lines)
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `chainrule predict ... | head`: the reader has all it wants
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _fmt_label(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _parse_label(v, classes):
    if isinstance(v, str) or not classes or isinstance(classes[0], str):
        return str(v) if classes and isinstance(classes[0], str) else v
    return float(v)


def _load_for_prediction(path: str):
    """``(network, params, metadata)`` of a model written by ``chainrule train``, every field that
    prediction reads checked: a damaged file is a one-line error, never a traceback."""
    try:
        net, params, meta = nn.load_model(path)
    except (nn.ModelFileError, nn.ParamShapeError) as e:
        raise CLIError(str(e)) from None
    if net is None or "task" not in meta or "x_mean" not in meta:
        raise CLIError(f"{path} was not written by 'chainrule train' (no network or preprocessing "
                       "stored); load it from Python with chainrule.nn.load")
    problem = _metadata_problem(meta, net)
    if problem:
        raise CLIError(f"{path}: corrupt model metadata: {problem}")
    return net, params, meta


def _metadata_problem(meta: dict, net):
    """What is wrong with the metadata ``chainrule train`` stores (``None`` if nothing)."""
    d, k = net.input_dim, net.output_dim

    def numbers(key, n, positive=False):
        try:
            a = np.asarray(meta.get(key), dtype=float)
        except (TypeError, ValueError):
            return f"{key!r} should be {n} numbers, got {_short(meta.get(key))}"
        if a.shape != (n,):
            return f"{key!r} should be {n} numbers (one per {'feature' if n == d else 'output'}), " \
                   f"got shape {a.shape}"
        if not np.all(np.isfinite(a)) or (positive and not np.all(a > 0)):
            return f"{key!r} should be finite{' and positive' if positive else ''}, got {_short(meta[key])}"
        return None

    if d is None:
        return "the network has no input size"
    task = meta.get("task")
    if task not in ("classification", "regression"):
        return f"task should be 'classification' or 'regression', got {_short(task)}"
    problem = numbers("x_mean", d) or numbers("x_std", d, positive=True)
    if problem:
        return problem
    names = meta.get("feature_names")
    if names is not None and not (isinstance(names, list) and len(names) == d
                                  and all(isinstance(n, str) for n in names)):
        return f"'feature_names' should be {d} column names, got {_short(names)}"
    for key, kinds in (("target_name", (str,)), ("target_index", (int,)), ("has_header", (bool,))):
        v = meta.get(key)
        if v is not None and (not isinstance(v, kinds) or (key == "target_index" and isinstance(v, bool))):
            return f"{key!r} should be a {kinds[0].__name__}, got {_short(v)}"
    if task == "classification":
        classes = meta.get("classes")
        if not isinstance(classes, list):
            return f"a classifier needs its 'classes' list, got {_short(classes)}"
        if len(classes) != k:
            return f"'classes' lists {len(classes)} classes but the network has {k} outputs"
        if not all(isinstance(c, str | int | float) and not isinstance(c, bool) for c in classes) \
                or len({str(c) for c in classes}) != len(classes):
            return f"'classes' should be distinct class labels, got {_short(classes)}"
        return None
    if k != 1:
        return f"a regression model should have 1 output, the network has {k}"
    return numbers("t_mean", 1) or numbers("t_std", 1, positive=True)


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_for_prediction(data: str, meta: dict, n_features: int, sep=None):
    """Read the features the model was trained on, matched by column name where both the model
    and the file name them (another column order, or extra columns, then work); else by position,
    where a file with one extra column has the target too (named or at its index)."""
    path = nn.digits_path() if data == "digits" else data
    names = meta.get("feature_names")
    by_name = (meta.get("has_header") and names and len(set(names)) == len(names)
               and not path.lower().endswith(".npz") and data != "digits")
    if by_name:
        try:
            return nn.read_table(path, target=meta.get("target_name"), require_target=False,
                                 features=names, sep=sep)
        except nn.DataError as e:
            raise CLIError(str(e)) from None
    ncol = _count_columns(path, sep)
    target = None
    if ncol == n_features + 1:
        name, index = meta.get("target_name"), meta.get("target_index")
        target = name if meta.get("has_header") and name else index
        if target is None:
            target = name
    elif ncol is not None and ncol != n_features:
        raise CLIError(f"{data}: has {ncol} columns, but the model takes {n_features} features "
                       f"(optionally plus the target column)")
    table = _read(path, target, require_target=target is not None, sep=sep)
    if table.x.shape[1] != n_features:
        raise CLIError(f"{data}: has {table.x.shape[1]} feature columns, but the model takes {n_features}")
    if meta.get("has_header") and names and path.lower().endswith(".npz"):
        table.notes.append("columns matched by position: the .npz file has no column names")
    elif not names and table.has_header:
        table.notes.append("the model stores no feature names (an older model file); columns "
                           "matched by position")
    return table


def _count_columns(path: str, sep=None):
    """Number of fields in the first CSV row (None for NPZ: read and checked afterwards)."""
    if path.lower().endswith(".npz") or not os.path.isfile(path):
        return None
    try:
        opener = gzip.open if path.endswith(".gz") else open
        delim = sniff_delimiter(path, sep)
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            for row in csv.reader(f, delimiter=delim):
                if row and any(c.strip() for c in row):
                    return len(row)
    except (OSError, UnicodeDecodeError, csv.Error, EOFError):
        return None  # read_table reports the problem
    return None
