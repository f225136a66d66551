"""`chainrule train`'s training behaviour: early stopping, adaptive defaults, column selection,
regression metrics, the chance warning, one loss definition, Ctrl-C bookkeeping, and (with
scikit-learn installed) the defaults against scikit-learn's default MLPs."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import os
import struct
import sys

import numpy as np
import pytest

from chainrule import nn
from chainrule.cli import train as cli_train
from chainrule.cli.main import main

QUICK = ["--no-gradcheck", "--progress", "plain"]


def run(*argv):
    """``chainrule`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def metrics(folder):
    return json.loads((folder / "metrics.json").read_text())


def blobs(path, n=150, d=4, k=3, seed=0, spread=1.0, extra=""):
    """k Gaussian classes in d dimensions (class means 3 apart), written as a CSV with a header."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    x = rng.normal(scale=spread, size=(n, d)) + 3.0 * np.eye(k, d)[labels]
    names = [f"f{j}" for j in range(d)]
    lines = [",".join(names + ["label"])]
    lines += [",".join(f"{v:.5f}" for v in row) + f",{c}" for row, c in zip(x, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------ defaults and early stopping

def test_adaptive_defaults_follow_the_size():
    small, large = cli_train.adaptive_defaults(100, 4), cli_train.adaptive_defaults(5000, 64)
    assert small["batch_size"] < large["batch_size"] and small["epochs"] > large["epochs"]
    assert small["weight_decay"] > large["weight_decay"] and small["hidden"] == "64"
    assert large["hidden"] == "128,128"
    for n in (2, 10, 100, 999, 1000, 10**6):
        a = cli_train.adaptive_defaults(n, 5)
        assert 8 <= a["batch_size"] <= 32 and 30 <= a["epochs"] <= 500
        steps = nn.num_batches(n, a["batch_size"])
        assert a["epochs"] * steps >= min(3000, 30 * steps)  # enough Adam steps to move the weights
        assert 1e-3 <= a["weight_decay"] <= 1e-2


def test_hidden_none_learns_a_linear_model_above_chance(tmp_path):
    """The bug: 4 batches x 30 epochs of Adam at lr <= 3e-3 moved each weight at most ~0.2 from a
    Glorot start (r = 0.93 for a 4 -> 3 layer) that classified below chance, so --hidden none
    ended at 10% on iris-like data. The adapted epochs give the convex problem enough steps."""
    data = blobs(tmp_path / "b.csv")
    seed = 1  # the old defaults ended at 40% train accuracy on it (seeds 0, 2: 64%, 57%)
    rc, out, err = run("train", "--data", data, "--hidden", "none", "--seed", seed, "--out",
                       tmp_path / "run", "--no-plot", *QUICK)
    assert rc == 0, err
    m = metrics(tmp_path / "run")
    assert m["final"]["train_accuracy"] > 0.9 and m["final"]["test_accuracy"] > 0.85
    assert "at or below chance" not in err


def test_early_stopping_keeps_the_best_epoch(tmp_path):
    data = blobs(tmp_path / "noisy.csv", n=120, spread=3.0)  # overlapping classes: it overfits
    out = tmp_path / "run"
    rc, text, err = run("train", "--data", data, "--hidden", "64", "--epochs", 400, "--patience", 5,
                        "--weight-decay", 0, "--lr", 0.01, "--out", out, *QUICK)
    assert rc == 0, err
    m = metrics(out)
    hist = m["history"]
    assert m["stopped_early"] and len(hist) < 400 and m["n_val"] > 0
    best = min(hist, key=lambda r: r["val_loss"])
    assert m["best_epoch"] == best["epoch"] and m["final"] == best
    assert len(hist) == best["epoch"] + 5  # patience: five epochs without a better one
    assert f"stopped early at epoch {len(hist)}; best validation loss at epoch {best['epoch']}" in text
    net, params, meta = nn.load_model(out / "model.npz")
    assert meta["epoch"] == best["epoch"]
    # the kept parameters are the best epoch's: they reproduce its test accuracy
    table = nn.read_table(data, target="label")
    _, x_te, _, t_te = nn.train_test_split(table.x, table.t.astype(int), 0.2, seed=0, stratify=True)
    y = net.apply(params, nn.standardize(x_te, np.asarray(meta["x_mean"]), np.asarray(meta["x_std"])))
    assert nn.accuracy(y, t_te) == best["test_accuracy"]


def test_val_fraction_zero_trains_every_epoch_and_keeps_the_last(tmp_path):
    out = tmp_path / "run"
    rc, _, err = run("train", "--data", blobs(tmp_path / "b.csv"), "--epochs", 4,
                     "--val-fraction", 0, "--out", out, "--no-plot", *QUICK)
    assert rc == 0, err
    m = metrics(out)
    assert m["n_val"] == 0 and m["epochs_completed"] == 4 and m["best_epoch"] == 4
    assert "val_loss" not in m["history"][0]
    rc, _, err = run("train", "--data", tmp_path / "b.csv", "--val-fraction", 1, "--out", out)
    assert rc == 2 and "--val-fraction must lie in [0, 1)" in err


# ------------------------------------------------------------------ columns

def test_drop_and_features_select_columns(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    lab = (x[:, 0] > 0).astype(int)
    rows = [f"id{i},name {i},{a:.4f},{b:.4f},{c}" for i, ((a, b), c) in enumerate(zip(x, lab, strict=True))]
    data = tmp_path / "ids.csv"
    data.write_text("id,name,a,b,label\n" + "\n".join(rows) + "\n")
    rc, _, err = run("train", "--data", data, "--out", tmp_path / "r0", "--epochs", 2)
    assert rc == 2 and "non-numeric value 'id0'" in err  # without --drop the text columns fail
    rc, text, err = run("train", "--data", data, "--drop", "id,name", "--epochs", 3,
                        "--out", tmp_path / "r1", "--no-plot", *QUICK)
    assert rc == 0, err
    assert metrics(tmp_path / "r1")["features"] == ["a", "b"] and "2 features" in text
    rc, _, err = run("train", "--data", data, "--features", "b", "--epochs", 3,
                     "--out", tmp_path / "r2", "--no-plot", *QUICK)
    assert rc == 0, err
    net, _, meta = nn.load_model(tmp_path / "r2" / "model.npz")
    assert meta["feature_names"] == ["b"] and net.input_dim == 1
    # predict reads the model's columns by name from the full file
    p = io.StringIO()
    with contextlib.redirect_stdout(p), contextlib.redirect_stderr(io.StringIO()):
        assert main(["predict", "--model", str(tmp_path / "r2" / "model.npz"), "--data", str(data)]) == 0
    assert len(p.getvalue().split()) == 60


@pytest.mark.parametrize("args, message", [
    (["--drop", "nmae"], "--drop: no column named 'nmae' (did you mean name?)"),
    (["--features", "a,zz"], "--features: no column named 'zz'"),
    (["--drop", "label"], "--drop lists the target column 'label'"),
    (["--features", "a,label"], "--features lists the target column 'label'"),
    (["--drop", "id,name,a,b"], "--drop leaves no feature columns"),
    (["--drop", "id", "--features", "a"], "give --features or --drop, not both"),
    (["--drop", ","], "expected comma-separated column names"),
])
def test_column_selection_errors(tmp_path, args, message):
    data = tmp_path / "ids.csv"
    data.write_text("id,name,a,b,label\nx,y,1,2,0\nz,w,3,4,1\nq,r,5,6,0\ns,t,7,8,1\n")
    rc, _, err = run("train", "--data", data, "--out", tmp_path / "r", *args)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_column_selection_needs_a_header(tmp_path):
    data = tmp_path / "nohead.csv"
    data.write_text("1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    rc, _, err = run("train", "--data", data, "--drop", "a", "--out", tmp_path / "r")
    assert rc == 2 and "has no header row" in err


# ------------------------------------------------------------------ regression

def _png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_regression_reports_r2_and_draws_a_parity_plot(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 3))
    y = 100 + 20 * x[:, 0] - 10 * x[:, 1] ** 2 + rng.normal(size=150)
    data = tmp_path / "r.csv"
    data.write_text("u,v,w,price\n" + "".join(f"{a:.4f},{b:.4f},{c:.4f},{t:.4f}\n"
                                              for (a, b, c), t in zip(x, y, strict=True)))
    out = tmp_path / "run"
    rc, text, err = run("train", "--data", data, "--target", "price", "--epochs", 60,
                        "--out", out, *QUICK)
    assert rc == 0, err
    m = metrics(out)
    final = m["final"]
    assert m["task"] == "regression" and final["test_r2"] > 0.8 and "test R^2" in text
    assert "1/2 squared error" in m["loss"]
    # R^2 is 1 - SSE / SST on the test rows in the target's units (RMSE^2 = SSE / n)
    net, params, meta = nn.load_model(out / "model.npz")
    table = nn.read_table(data, target="price")
    _, x_te, _, t_te = nn.train_test_split(table.x, table.t[:, None], 0.2, seed=0)
    pred = np.asarray(net.apply(params, nn.standardize(x_te, np.asarray(meta["x_mean"]),
                                                       np.asarray(meta["x_std"])))) * meta["t_std"][0] \
        + meta["t_mean"][0]
    sse = np.sum((pred - t_te) ** 2)
    assert math.isclose(final["test_r2"], 1 - sse / np.sum((t_te - t_te.mean()) ** 2), rel_tol=1e-4)
    assert math.isclose(final["test_rmse"], math.sqrt(sse / len(t_te)), rel_tol=1e-4)
    if importlib.util.find_spec("matplotlib"):
        width, _ = _png_size(out / "training.png")
        rc, _, _ = run("train", "--data", blobs(tmp_path / "b.csv"), "--epochs", 2,
                       "--out", tmp_path / "cls", *QUICK)
        assert width > 1.3 * _png_size(tmp_path / "cls" / "training.png")[0]  # the third panel


def test_r2_score():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert nn.metrics.r2_score(t, t) == 1.0
    assert nn.metrics.r2_score(np.full(4, t.mean()), t) == 0.0
    y = np.array([1.5, 1.5, 3.5, 3.5])
    assert math.isclose(nn.metrics.r2_score(y, t), 1 - 1.0 / 5.0)
    assert math.isclose(nn.metrics.r2_score(3 * y + 7, 3 * t + 7), 1 - 1.0 / 5.0)  # affine invariant
    assert math.isnan(nn.metrics.r2_score(t, np.ones(4)))


# ------------------------------------------------------------------ chance, loss, Ctrl-C

def test_warns_when_training_accuracy_stays_at_chance(tmp_path):
    data = tmp_path / "flat.csv"  # a constant feature: nothing to learn, 60% is the majority class
    data.write_text("f,label\n" + "".join(f"1.0,{int(i % 5 < 3)}\n" for i in range(50)))
    rc, _, err = run("train", "--data", data, "--epochs", 5, "--out", tmp_path / "r", "--no-plot",
                     *QUICK)
    assert rc == 0
    assert "warning: training accuracy" in err and "at or below chance" in err
    chance = float(err.split("chance (")[1].split("%")[0])
    assert math.isclose(chance, 100 * 24 / 40, abs_tol=5.0)  # about the majority share


def test_one_loss_everywhere_the_penalty_excluded(tmp_path, monkeypatch):
    """The bar's batch loss, the epoch's train loss and metrics.json all report the mean error per
    example; a large weight penalty must not show in any of them."""
    seen = []
    monkeypatch.setattr(cli_train._Progress, "step", lambda self, epoch, loss: seen.append(loss))
    data = blobs(tmp_path / "b.csv", n=60)
    out = tmp_path / "run"
    # one batch holding every training row, a learning rate too small to move the weights: the
    # batch loss and the epoch's train loss are then the same number
    rc, text, err = run("train", "--data", data, "--hidden", 8, "--batch-size", 1000, "--epochs", 2,
                        "--lr", 1e-12, "--schedule", "constant", "--weight-decay", 50,
                        "--val-fraction", 0, "--out", out, "--no-plot", *QUICK)
    assert rc == 0, err
    m = metrics(out)
    assert len(seen) == 2
    for loss, row in zip(seen, m["history"], strict=True):
        assert math.isclose(loss, row["train_loss"], rel_tol=1e-6)
    net, params, _ = nn.load_model(out / "model.npz")
    assert float(nn.l2_penalty(params, 50)) > 10 * seen[0]  # the penalty would have dominated
    assert "loss = mean cross-entropy per example (training also minimises + 50/2 |w|^2" in text
    assert "no weight penalty" not in m["loss"] and "penalty excluded" in m["loss"]


def test_ctrl_c_finishes_the_epoch_bookkeeping(tmp_path, monkeypatch):
    """KeyboardInterrupt in the middle of epoch 2: the partial epoch is evaluated, then the
    metrics, the plot and the model are written before exiting with 130."""
    calls = {"n": 0}
    update = nn.Adam.update

    def interrupted(self, params, grads, state):
        calls["n"] += 1
        if calls["n"] == 8:  # 5 steps per epoch below: the third step of epoch 2
            raise KeyboardInterrupt
        return update(self, params, grads, state)

    monkeypatch.setattr(nn.Adam, "update", interrupted)
    data = blobs(tmp_path / "b.csv", n=60)
    out = tmp_path / "run"
    rc, text, err = run("train", "--data", data, "--batch-size", 10, "--epochs", 10,
                        "--val-fraction", 0, "--out", out, *QUICK)
    assert rc == 130 and "interrupted" in err and "Traceback" not in err
    m = metrics(out)
    assert m["status"] == "interrupted" and m["interrupted_at"] == {"epoch": 2, "step": 2}
    assert [r["epoch"] for r in m["history"]] == [1, 2] and m["history"][1]["steps"] == 2
    net, params, meta = nn.load_model(out / "model.npz")
    assert meta["epoch"] == 2
    if importlib.util.find_spec("matplotlib"):
        assert (out / "training.png").exists()
    assert "interrupted at epoch 2, step 2/5" in text


def test_ctrl_c_by_signal(tmp_path):
    """The real thing: SIGINT to a running `chainrule train`."""
    import signal
    import subprocess
    import time

    data = blobs(tmp_path / "b.csv", n=600, d=8)
    out = tmp_path / "run"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-m", "chainrule", "train", "--data", str(data), "--epochs",
                          "500", "--patience", "500", "--batch-size", "8", "--out", str(out), "--no-plot",
                          *QUICK], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 240  # a loaded machine can take long to reach the first epoch
    while time.time() < deadline:  # wait for the first finished epoch
        if (out / "model.npz").exists() and p.poll() is None:
            line = p.stdout.readline()
            if line.startswith("epoch"):
                break
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    assert "Traceback" not in stderr
    m = metrics(out)
    assert m["status"] == "interrupted" and m["history"] and "interrupted at epoch" in stdout


# ------------------------------------------------------------------ against scikit-learn

@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="scikit-learn not installed")
def test_defaults_match_scikit_learn_on_its_bundled_tables(tmp_path):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        from benchmarks.train_vs_sklearn import DATASETS, compare
    finally:
        sys.path.pop(0)
    rows = [compare(name, task, str(tmp_path), seed=0) for name, task in DATASETS]
    for r in rows:
        assert r["chainrule"] >= r["sklearn"], r


@pytest.mark.skipif(importlib.util.find_spec("rich") is None, reason="rich not installed")
def test_the_rich_bar_shows_an_eta():
    from rich.progress import TimeRemainingColumn

    p = cli_train._Progress("rich", epochs=3, steps=2)
    try:
        p.step(1, 0.5)
        assert any(isinstance(c, TimeRemainingColumn) for c in p._rich.columns)
        assert p._rich.tasks[0].fields["stats"] == "batch loss 0.5000"
    finally:
        p.close()
