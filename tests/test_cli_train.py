"""`chainrule train` / `chainrule predict` through the real command (`python -m chainrule`)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule import nn

# One BLAS thread: these runs are tiny, and on a busy 2-core machine OpenBLAS threads only contend.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "COLUMNS": "120"}


def chainrule(*args, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=timeout)


def assert_clean_failure(r, *fragments):
    """Non-zero exit, exactly one line on stderr naming the problem, no traceback."""
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("chainrule ")
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One short default-network run on the bundled digits, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    r = chainrule("train", "--epochs", 2, "--hidden", 32, "--out", out)
    return r, out


def test_train_on_digits(digits_run):
    r, out = digits_run
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "gradient check" in r.stdout and "worst relative error" in r.stdout
    assert "epoch 1/2" in r.stdout and "epoch 2/2" in r.stdout  # plain progress: stdout is a pipe
    assert {"model.npz", "metrics.json", "training.png"} <= set(os.listdir(out))
    m = json.loads((out / "metrics.json").read_text())
    assert m["status"] == "ok" and m["task"] == "classification" and m["epochs_completed"] == 2
    assert m["n_train"] + m["n_val"] + m["n_test"] == 1797 and m["classes"] == list(range(10))
    assert m["gradcheck_worst_rel_error"] < 1e-5
    assert m["final"]["test_accuracy"] > 0.7
    assert (out / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    net, params, meta = nn.load_model(out / "model.npz")
    assert net.input_dim == 64 and net.output_dim == 10 and meta["epoch"] == 2


def test_predict_csv_with_and_without_target(digits_run, tmp_path):
    _, out = digits_run
    x, t = nn.load_digits()
    with_target = tmp_path / "with.csv"
    np.savetxt(with_target, np.column_stack([x[:20], t[:20]]), delimiter=",", fmt="%g")
    no_target = tmp_path / "without.csv"
    np.savetxt(no_target, x[:20], delimiter=",", fmt="%g")
    r = chainrule("predict", "--model", out / "model.npz", "--data", with_target)
    assert r.returncode == 0, r.stderr
    preds = [int(s) for s in r.stdout.split()]
    assert len(preds) == 20 and "accuracy on the 20 labelled rows" in r.stderr
    r2 = chainrule("predict", "--model", out / "model.npz", "--data", no_target,
                   "--out", tmp_path / "p.csv", "--proba")
    assert r2.returncode == 0, r2.stderr
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0].startswith("prediction,p(0),p(1)") and len(rows) == 21
    assert [int(row.split(",")[0]) for row in rows[1:]] == preds


def test_regression_on_a_continuous_target(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    y = 3 * x[:, 0] - x[:, 1] + 0.1 * rng.normal(size=120)
    data = tmp_path / "r.csv"
    rows = "".join(f"{a:.4f},{b:.4f},{c:.4f}\n" for (a, b), c in zip(x, y, strict=True))
    data.write_text("u,v,price\n" + rows)
    r = chainrule("train", "--data", data, "--target", "price", "--epochs", 30, "--hidden", 8,
                  "--lr", 0.03, "--out", tmp_path / "run", "--no-plot")
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["task"] == "regression" and m["final"]["test_rmse"] < 1.0
    p = chainrule("predict", "--model", tmp_path / "run" / "model.npz", "--data", data)
    assert p.returncode == 0, p.stderr
    values = np.array([float(s) for s in p.stdout.split()])
    assert len(values) == 120 and np.sqrt(np.mean((values - y) ** 2)) < 1.0


def test_text_labels_skip_connection_and_npz(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 2))
    lab = np.where(x[:, 0] > 0, "cat", "dog")
    data = tmp_path / "c.csv"
    data.write_text("animal,a,b\n" + "".join(f"{s},{a},{b}\n" for s, (a, b) in zip(lab, x, strict=True)))
    r = chainrule("train", "--data", data, "--target", "animal", "--epochs", 3, "--hidden", 4,
                  "--skip", "--out", tmp_path / "run", "--no-plot")
    assert r.returncode == 0, r.stderr
    net, _, meta = nn.load_model(tmp_path / "run" / "model.npz")
    assert meta["classes"] == ["cat", "dog"] and "x" in net.layers["out"].inputs
    np.savez(tmp_path / "d.npz", x=x, y=(x[:, 0] > 0).astype(int))
    r = chainrule("train", "--data", tmp_path / "d.npz", "--epochs", 2, "--hidden", 4,
                  "--optimizer", "sgd", "--lr", 0.05, "--out", tmp_path / "run2", "--no-gradcheck")
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------------------- bad input

@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "text.csv").write_text("a,b,label\n1,2,0\n3,hello,1\n4,5,0\n")
    (d / "nan.csv").write_text("a,b,label\n1,2,0\n3,nan,1\n4,5,0\n")
    (d / "empty_cell.csv").write_text("a,b,label\n1,2,0\n3,,1\n4,5,0\n")
    (d / "ragged.csv").write_text("a,b,label\n1,2,0\n3,1\n")
    (d / "ok.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    x = np.ones((5, 2))
    x[2, 0] = np.nan
    np.savez(d / "nan.npz", x=x, y=np.arange(5) % 2)
    (d / "notes.txt.bak").write_text("hello")
    return d


@pytest.mark.parametrize("args, fragments", [
    (["--data", "{d}/missing.csv"], ["no such file", "missing.csv"]),
    (["--data", "{d}/ok.csv", "--target", "lable"], ["no column named 'lable'", "columns: a, b, label"]),
    (["--data", "{d}/ok.csv", "--target", "7"], ["target column index 7 is out of range"]),
    (["--data", "{d}/text.csv"], ["non-numeric value 'hello'", "line 3", "column 'b'"]),
    (["--data", "{d}/nan.csv"], ["NaN value", "line 3", "column 'b'"]),
    (["--data", "{d}/empty_cell.csv"], ["missing value", "line 3"]),
    (["--data", "{d}/ragged.csv"], ["line 3 has 2 fields, expected 3"]),
    (["--data", "{d}/nan.npz"], ["NaN value in 'x' at row 2, column 0"]),
    (["--data", "{d}/notes.txt.bak"], ["unsupported file type"]),
    (["--data", "{d}/ok.csv", "--hidden", "12,x"], ["--hidden"]),
    (["--data", "{d}/ok.csv", "--test-fraction", "1.5"], ["--test-fraction"]),
])
def test_train_bad_input(bad_files, tmp_path, args, fragments):
    args = [a.format(d=bad_files) for a in args]
    r = chainrule("train", *args, "--out", tmp_path / "run")
    assert_clean_failure(r, *fragments)
    assert r.returncode == 2


def test_diverging_loss_stops_and_keeps_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    r = chainrule("train", "--lr", "1e6", "--epochs", 3, "--hidden", 16, "--out", out,
                  "--no-gradcheck")
    assert_clean_failure(r, "training diverged", "--lr", "last good parameters")
    net, params, meta = nn.load_model(out / "model.npz")  # the checkpoint survives and loads
    assert all(np.all(np.isfinite(leaf)) for _, leaf in nn.tree_items(params))
    assert meta["epoch"] == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["status"] == "diverged" and m["diverged_at"]["epoch"] == 1


def test_predict_bad_input(digits_run, bad_files, tmp_path):
    _, out = digits_run
    model = out / "model.npz"
    assert_clean_failure(chainrule("predict", "--model", tmp_path / "nope.npz", "--data", "digits"),
                         "no such model file")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    assert_clean_failure(chainrule("predict", "--model", tmp_path / "junk.npz", "--data", "digits"),
                         "not a readable")
    assert_clean_failure(chainrule("predict", "--model", model, "--data", bad_files / "ok.csv"),
                         "has 3 columns, but the model takes 64 features")
    assert_clean_failure(chainrule("predict", "--model", model, "--data", bad_files / "missing.csv"),
                         "no such file")


def test_bad_arguments_are_argparse_errors(tmp_path):
    r = chainrule("train", "--epochs", "zero")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--epochs" in r.stderr
    r = chainrule("train", "--lr", "-1")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_progress_falls_back_without_rich_or_tqdm(monkeypatch, capsys):
    from chainrule.cli import train as cli_train

    monkeypatch.setitem(sys.modules, "rich.progress", None)  # import fails
    p = cli_train._Progress("rich", epochs=1, steps=2)
    assert p.mode == ("tqdm" if importlib.util.find_spec("tqdm") else "plain")
    p.close()
    monkeypatch.setitem(sys.modules, "tqdm", None)
    p = cli_train._Progress("rich", epochs=4, steps=2)
    assert p.mode == "plain"
    p.step(1, 0.5)
    p.epoch({"epoch": 1, "train_loss": 0.5, "val_loss": 0.55, "test_loss": 0.6,
             "train_accuracy": 0.9, "test_accuracy": 0.8, "seconds": 0.1}, "accuracy", elapsed=2.0)
    p.epoch({"epoch": 2, "train_loss": 0.5, "test_loss": 0.6, "train_accuracy": 0.9,
             "test_accuracy": 0.8, "seconds": 0.1}, "accuracy", elapsed=100.0)
    p.close()
    out = capsys.readouterr().out
    # the ETA: seconds so far / epochs done * epochs left
    assert "epoch 1/4  loss 0.5000  val loss 0.5500  test loss 0.6000  accuracy 90.00%  " \
           "test accuracy 80.00%  (0.1 s, eta 6.0 s)" in out
    assert "epoch 2/4  loss 0.5000  test loss 0.6000" in out and "eta 1 min 40 s)" in out


def test_plot_without_matplotlib_is_a_note(monkeypatch, tmp_path):
    from chainrule.cli import train as cli_train

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    note = cli_train._plot(str(tmp_path / "t.png"), [{"epoch": 1}], "accuracy")
    assert "matplotlib is not installed" in note and not (tmp_path / "t.png").exists()
