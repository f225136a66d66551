"""`chainrule predict`: columns matched by the names the model stores (issue 12 item 13), and a
damaged model file is a one-line error, never a traceback (issue 12 item 18)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule import nn
from chainrule.cli.main import main

COLS = ["a", "b", "c", "d"]


def _write(path, header, rows):
    with open(path, "w") as f:
        if header is not None:
            f.write(",".join(header) + "\n")
        f.writelines(",".join(map(str, r)) + "\n" for r in rows)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small classifier on named columns whose scales differ (so a column swap matters)."""
    d = tmp_path_factory.mktemp("predict")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)) * [1.0, 1.0, 5.0, 0.2] + [0, 0, 0, 3]
    lab = np.where(x[:, 0] + 0.2 * x[:, 2] - x[:, 1] > 0, "yes", "no")
    rows = [[f"{v:.5f}" for v in r] + [s] for r, s in zip(x, lab, strict=True)]
    data = _write(d / "train.csv", COLS + ["label"], rows)
    code = main(["train", "--data", str(data), "--target", "label", "--epochs", "15", "--hidden", "8",
                 "--out", str(d / "run"), "--no-plot", "--progress", "none"])
    assert code == 0
    return d, x, lab, d / "run" / "model.npz"


def _predict(capsys, model, data, *extra):
    code = main(["predict", "--model", str(model), "--data", str(data), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out.split(), err


def _one_line_error(code, err, *fragments):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule predict: error: "), err
    for f in fragments:
        assert f in lines[0], lines[0]


def test_columns_are_matched_by_name_in_any_order(trained, capsys):
    d, x, lab, model = trained
    code, base, err = _predict(capsys, model, d / "train.csv")
    assert code == 0 and "accuracy" in err
    for order in ([2, 0, 3, 1], [3, 2, 1, 0], [1, 0, 2, 3]):
        header = [COLS[j] for j in order] + ["label"]
        rows = [[f"{r[j]:.5f}" for j in order] + [s] for r, s in zip(x, lab, strict=True)]
        code, got, err2 = _predict(capsys, model, _write(d / "shuffled.csv", header, rows))
        assert code == 0 and got == base
        assert err2.splitlines()[-1].split(":")[-1] == err.splitlines()[-1].split(":")[-1]  # accuracy
    # the target may stand anywhere too, or be absent
    rows = [[s] + [f"{r[j]:.5f}" for j in (3, 1, 0, 2)] for r, s in zip(x, lab, strict=True)]
    code, got, _ = _predict(capsys, model, _write(d / "first.csv", ["label", "d", "b", "a", "c"], rows))
    assert code == 0 and got == base
    rows = [[f"{r[j]:.5f}" for j in (3, 1, 0, 2)] for r in x]
    code, got, err = _predict(capsys, model, _write(d / "nolabel.csv", ["d", "b", "a", "c"], rows))
    assert code == 0 and got == base and "accuracy" not in err


@pytest.mark.parametrize("extra", [["id"], ["id", "comment"], ["zz"]])
def test_extra_columns_are_ignored_with_a_note(trained, capsys, extra):
    d, x, lab, model = trained
    _, base, _ = _predict(capsys, model, d / "train.csv")
    header = extra[:1] + ["c", "a", "label", "d", "b"] + extra[1:]
    rows = [[f"row{i}"] + [f"{r[j]:.5f}" for j in (2, 0)] + [s] + [f"{r[j]:.5f}" for j in (3, 1)]
            + ["free text"] * (len(extra) - 1) for i, (r, s) in enumerate(zip(x, lab, strict=True))]
    code, got, err = _predict(capsys, model, _write(d / "extra.csv", header, rows))
    assert code == 0 and got == base
    note = [ln for ln in err.splitlines() if "note" in ln]
    assert len(note) == 1 and all(repr(e) in note[0] for e in extra) and "ignored" in note[0]


def test_a_missing_column_is_named(trained, capsys):
    d, x, lab, model = trained
    for gone in COLS:
        keep = [c for c in COLS if c != gone]
        rows = [[f"{r[COLS.index(c)]:.5f}" for c in keep] + [s] for r, s in zip(x, lab, strict=True)]
        code, _, err = _predict(capsys, model, _write(d / "missing.csv", keep + ["label"], rows))
        _one_line_error(code, err, f"no column named {gone!r}", "missing.csv")
    rows = [[f"{v:.5f}" for v in r] for r in x]
    code, _, err = _predict(capsys, model, _write(d / "renamed.csv", ["a", "b", "C", "D"], rows))
    _one_line_error(code, err, "no column named 'c'", "1 more", "'d'")


def test_a_file_without_header_row_is_refused_for_a_named_model(trained, capsys):
    d, x, _, model = trained
    code, _, err = _predict(capsys, model, _write(d / "bare.csv", None, [[f"{v:.5f}" for v in r] for r in x]))
    _one_line_error(code, err, "no header row", "'a'")


def test_duplicate_column_names_are_refused(trained, capsys):
    d, x, _, model = trained
    rows = [[f"{v:.5f}" for v in r] + ["1"] for r in x]
    code, _, err = _predict(capsys, model, _write(d / "dup.csv", COLS + ["a"], rows))
    _one_line_error(code, err, "'a' appears 2 times")


def _tamper(src, dst, **changes):
    """Copy a model file with entries replaced (metadata given as a dict is re-encoded as JSON)."""
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for key, value in changes.items():
        key = key.replace("__slash__", "/")
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value if isinstance(value, np.ndarray) else np.array(value)
    np.savez(dst, **arrays)
    return dst


def _meta(model):
    return nn.load_model(model)[2]


def _meta_with(model, **kv):
    m = _meta(model)
    for k, v in kv.items():
        if v is ...:
            m.pop(k)
        else:
            m[k] = v
    return json.dumps(m)


DAMAGE = {
    "metadata is not JSON": (lambda m: {"__metadata__": '{"task": "classification", "x_mean": [1,'},
                             ["corrupt metadata", "not valid JSON"]),
    "metadata is a list": (lambda m: {"__metadata__": "[1, 2]"}, ["corrupt metadata", "list"]),
    "metadata is an array": (lambda m: {"__metadata__": np.zeros(3)}, ["corrupt metadata", "JSON text"]),
    "no classes": (lambda m: {"__metadata__": _meta_with(m, classes=...)}, ["'classes'"]),
    "classes not a list": (lambda m: {"__metadata__": _meta_with(m, classes="no,yes")}, ["'classes'"]),
    "wrong number of classes": (lambda m: {"__metadata__": _meta_with(m, classes=["no", "yes", "maybe"])},
                                ["3 classes", "2 outputs"]),
    "repeated classes": (lambda m: {"__metadata__": _meta_with(m, classes=["no", "no"])}, ["distinct"]),
    "mean too short": (lambda m: {"__metadata__": _meta_with(m, x_mean=[0.0, 1.0, 2.0])},
                       ["'x_mean' should be 4 numbers", "(3,)"]),
    "mean is text": (lambda m: {"__metadata__": _meta_with(m, x_mean="zero")}, ["'x_mean'"]),
    "mean is nested": (lambda m: {"__metadata__": _meta_with(m, x_mean=[[0.0] * 4])}, ["(1, 4)"]),
    "std has a zero": (lambda m: {"__metadata__": _meta_with(m, x_std=[1.0, 0.0, 1.0, 1.0])},
                       ["'x_std'", "positive"]),
    "std has a NaN": (lambda m: {"__metadata__": _meta_with(m, x_std=[1.0, float("nan"), 1.0, 1.0])},
                      ["'x_std'", "finite"]),
    "no std": (lambda m: {"__metadata__": _meta_with(m, x_std=...)}, ["'x_std'"]),
    "unknown task": (lambda m: {"__metadata__": _meta_with(m, task="ranking")}, ["task", "ranking"]),
    "no task": (lambda m: {"__metadata__": _meta_with(m, task=...)}, ["not written by 'chainrule train'"]),
    "feature names too few": (lambda m: {"__metadata__": _meta_with(m, feature_names=["a", "b"])},
                              ["'feature_names'"]),
    "feature names not text": (lambda m: {"__metadata__": _meta_with(m, feature_names=[1, 2, 3, 4])},
                               ["'feature_names'"]),
    "has_header not a bool": (lambda m: {"__metadata__": _meta_with(m, has_header="yes")}, ["'has_header'"]),
    "target index not an int": (lambda m: {"__metadata__": _meta_with(m, target_index=[4])},
                                ["'target_index'"]),
    "regression without t_std": (lambda m: {"__metadata__": _meta_with(m, task="regression")},
                                 ["regression", "1 output"]),
    "weights of the wrong shape": (lambda m: {"params__slash__h1__slash__W__slash__x": np.zeros((3, 8))},
                                   ["h1", "(3, 8)"]),
    "weights as text": (lambda m: {"params__slash__out__slash__b": np.array(["x", "y"])},
                        ["'out/b'", "dtype"]),
    "network is not JSON": (lambda m: {"__network__": "{layers"}, ["network description", "JSON"]),
    "network lacks layers": (lambda m: {"__network__": '{"input_dim": 4}'}, ["network description"]),
    "network is a number": (lambda m: {"__network__": "7"}, ["network description"]),
    "no network": (lambda m: {"__network__": None}, ["not written by 'chainrule train'"]),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_model_metadata_is_a_one_line_error(trained, capsys, tmp_path, case):
    d, _, _, model = trained
    make, fragments = DAMAGE[case]
    bad = _tamper(model, tmp_path / "bad.npz", **make(model))
    code, _, err = _predict(capsys, bad, d / "train.csv")
    _one_line_error(code, err, *fragments)


def test_damaged_model_through_the_real_command(trained, tmp_path):
    d, _, _, model = trained
    bad = _tamper(model, tmp_path / "bad.npz", __metadata__=_meta_with(model, classes=...))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "chainrule", "predict", "--model", str(bad), "--data",
                        str(d / "train.csv")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "'classes'" in r.stderr


def test_an_older_model_without_feature_names_still_predicts_by_position(trained, capsys, tmp_path):
    d, _, _, model = trained
    old = _tamper(model, tmp_path / "old.npz", __metadata__=_meta_with(model, feature_names=...))
    _, base, _ = _predict(capsys, model, d / "train.csv")
    code, got, err = _predict(capsys, old, d / "train.csv")
    assert code == 0 and got == base and "matched by position" in err
