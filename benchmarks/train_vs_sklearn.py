"""``chainrule train``'s defaults against scikit-learn's MLPClassifier / MLPRegressor defaults.

    python -m benchmarks.train_vs_sklearn [--seed 0] [--workdir DIR]

For scikit-learn's bundled iris, wine and breast-cancer tables (classification) and diabetes
(regression): write each as a CSV, run ``chainrule train --data FILE --target target --seed S``
with no other option (every setting its default or adapted to the data's size), then fit
scikit-learn's default MLP (``random_state=S``) on the very rows chainrule had for training and
validation (the same ``chainrule.nn.train_test_split`` call, stratified for classes) after a
StandardScaler fitted on them, and score both on the same held-out test rows: accuracy, or R^2.

The held-out rows are checked to be the same: chainrule's saved model is re-scored here on the
rows this script holds out and must reproduce the test score ``chainrule train`` reported.
scikit-learn is needed for this script only (``pip install scikit-learn``), never by chainrule.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import time
import warnings

import numpy as np

from chainrule import nn
from chainrule.cli.main import main as chainrule_main
from chainrule.nn.metrics import r2_score

DATASETS = (("iris", "classification"), ("wine", "classification"),
            ("breast_cancer", "classification"), ("diabetes", "regression"))
TEST_FRACTION = 0.2  # chainrule train's default --test-fraction


def write_csv(name: str, folder: str) -> str:
    """scikit-learn's bundled table ``name`` as ``folder/name.csv`` (header row, target last)."""
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    path = os.path.join(folder, f"{name}.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([c.replace(" ", "_") for c in bunch.feature_names] + ["target"])
        for x, t in zip(bunch.data, bunch.target, strict=True):
            w.writerow([repr(float(v)) for v in x] + [repr(t.item())])
    return path


def run_chainrule(path: str, out: str, seed: int) -> dict:
    """``chainrule train`` with its defaults; returns its metrics.json."""
    argv = ["train", "--data", path, "--target", "target", "--seed", str(seed), "--out", out,
            "--no-plot", "--no-gradcheck", "--progress", "none"]
    with contextlib.redirect_stdout(io.StringIO()):
        rc = chainrule_main(argv)
    if rc != 0:
        raise RuntimeError(f"chainrule {' '.join(argv)} exited with {rc}")
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f)


def compare(name: str, task: str, folder: str, seed: int = 0) -> dict:
    """One row of the table: chainrule's and scikit-learn's held-out score on the same rows."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import StandardScaler

    path = write_csv(name, folder)
    t0 = time.perf_counter()
    m = run_chainrule(path, os.path.join(folder, f"run-{name}"), seed)
    cr_seconds = time.perf_counter() - t0
    table = nn.read_table(path, target="target")
    if task == "classification":
        _, y = np.unique(table.t, return_inverse=True)
    else:
        y = table.t.astype(float)[:, None]
    x_fit, x_te, y_fit, y_te = nn.train_test_split(table.x, y, TEST_FRACTION, seed=seed,
                                                   stratify=task == "classification")
    assert len(x_te) == m["n_test"] and len(x_fit) == m["n_train"] + m["n_val"]

    # the same held-out rows: chainrule's model, re-scored on them, gives the reported score
    net, params, meta = nn.load_model(m["model"])
    out = np.asarray(net.apply(params, nn.standardize(x_te, np.asarray(meta["x_mean"]),
                                                      np.asarray(meta["x_std"]))))
    if task == "classification":
        ours = nn.accuracy(out, y_te)
        reported = m["final"]["test_accuracy"]
    else:
        ours = r2_score(out * meta["t_std"][0] + meta["t_mean"][0], y_te)
        reported = m["final"]["test_r2"]
    assert abs(ours - reported) < 1e-9, (name, ours, reported)

    scaler = StandardScaler().fit(x_fit)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the default max_iter=200 stops short
        if task == "classification":
            model = MLPClassifier(random_state=seed).fit(scaler.transform(x_fit), y_fit)
            theirs = float(np.mean(model.predict(scaler.transform(x_te)) == y_te))
        else:
            model = MLPRegressor(random_state=seed).fit(scaler.transform(x_fit), y_fit[:, 0])
            theirs = r2_score(model.predict(scaler.transform(x_te)), y_te[:, 0])
    sk_seconds = time.perf_counter() - t0
    return {"data": name, "task": task, "metric": "accuracy" if task == "classification" else "R^2",
            "rows": len(table.x), "test_rows": len(x_te), "chainrule": ours, "sklearn": theirs,
            "chainrule_s": cr_seconds, "sklearn_s": sk_seconds, "best_epoch": m["best_epoch"],
            "epochs": m["epochs_completed"]}


def format_table(rows: list[dict]) -> str:
    def fmt(r, v):
        return f"{100 * v:.2f}%" if r["metric"] == "accuracy" else f"{v:.4f}"

    lines = ["| data | rows (test) | metric | chainrule train | scikit-learn MLP | chainrule s | sklearn s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['data']} | {r['rows']} ({r['test_rows']}) | {r['metric']} | "
                     f"{fmt(r, r['chainrule'])} | {fmt(r, r['sklearn'])} | {r['chainrule_s']:.1f} | "
                     f"{r['sklearn_s']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="split, initial weights and batch order")
    ap.add_argument("--workdir", default=None, help="where the CSVs and runs go (default: a temp dir)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.workdir or tmp
        os.makedirs(folder, exist_ok=True)
        rows = [compare(name, task, folder, args.seed) for name, task in DATASETS]
    print(format_table(rows))
    behind = [r["data"] for r in rows if r["chainrule"] < r["sklearn"]]
    print(f"seed {args.seed}: " + (f"below scikit-learn on {', '.join(behind)}" if behind
                                   else "chainrule at or above scikit-learn on every row"))
    return 1 if behind else 0


if __name__ == "__main__":
    sys.exit(main())
