"""The CLI's papercuts (issue 17): --version, suggestions for mistyped flags and commands, errors
that never suggest unpickling, a semicolon-separated CSV, every formula function."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.cli.main import main
from chainrule.nn.data import sniff_delimiter
from chainrule.viz.formula import FUNCTION_NAMES


def _exit(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return info.value.code, out, err


def test_version(capsys):
    code, out, _ = _exit(capsys, "--version")
    assert code == 0 and out.strip() == f"chainrule {chainrule.__version__}"


@pytest.mark.parametrize("argv, meant", [
    (["train", "--epocs", "3"], "--epochs"),
    (["train", "--epocs=3"], "--epochs"),
    (["train", "--hiden", "8"], "--hidden"),
    (["train", "--weight_decay", "0"], "--weight-decay"),
    (["train", "--no-gradchek"], "--no-gradcheck"),
    (["predict", "--modle", "m.npz", "--data", "d.csv"], "--model"),
    (["predict", "--modle", "m.npz"], "--model"),  # before the 'required' error it would cause
    (["predict", "--model", "m.npz", "--data", "d.csv", "--proab"], "--proba"),
])
def test_a_mistyped_flag_suggests_the_right_one(capsys, argv, meant):
    code, _, err = _exit(capsys, *argv)
    assert code == 2 and f"(did you mean {meant}?)" in err
    assert f"chainrule {argv[0]}: error: unrecognized arguments" in err


def test_a_mistyped_command_suggests_the_right_one(capsys):
    code, _, err = _exit(capsys, "trian", "--epochs", "3")
    assert code == 2 and "(did you mean train?)" in err
    code, _, err = _exit(capsys, "predcit")
    assert code == 2 and "(did you mean predict?)" in err


@pytest.mark.parametrize("argv, meant", [
    (["x * 2", "--x", "1", "--no-file"], "--no-files"),
    (["x * 2", "--x", "1", "--widht", "80"], "--width"),
    (["x * yy", "--x", "1", "--yy", "2", "--y", "3"], "--yy"),
])
def test_explain_suggests_options_and_variables(capsys, argv, meant):
    code = main(["explain", *argv])
    err = capsys.readouterr().err
    assert code == 2 and f"(did you mean {meant}?)" in err


def test_an_unknown_flag_far_from_any_option_gets_no_guess(capsys):
    code, _, err = _exit(capsys, "train", "--zzzzzz")
    assert code == 2 and "unrecognized arguments: --zzzzzz" in err and "did you mean" not in err


# ------------------------------------------------------------------ no advice to unpickle
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    lab = (x[:, 0] - x[:, 2] > 0).astype(int)
    rows = [[f"{v:.4f}" for v in r] + [str(s)] for r, s in zip(x, lab, strict=True)]
    for name, sep in (("comma.csv", ","), ("semi.csv", ";"), ("tab.txt", "\t"), ("pipe.csv", "|")):
        (d / name).write_text(sep.join(["a", "b", "c", "label"]) + "\n"
                              + "".join(sep.join(r) + "\n" for r in rows))
    (d / "decimal_comma.csv").write_text("a;b;c;label\n" + "".join(
        ";".join(v.replace(".", ",") for v in r) + "\n" for r in rows))
    np.savez(d / "objects.npz", x=np.array([{"a": 1}, None], dtype=object), y=np.arange(2))
    (d / "renamed.npz").write_text((d / "comma.csv").read_text())
    code = main(["train", "--data", str(d / "comma.csv"), "--epochs", "3", "--hidden", "4",
                 "--out", str(d / "run"), "--no-plot", "--progress", "none"])
    assert code == 0
    return d


@pytest.mark.parametrize("argv, fragment", [
    (["predict", "--model", "{d}/comma.csv", "--data", "{d}/comma.csv"], "looks like a text file"),
    (["predict", "--model", "{d}/objects.npz", "--data", "{d}/comma.csv"], "never loads"),
    (["predict", "--model", "{d}/renamed.npz", "--data", "{d}/comma.csv"], "not an .npz (zip) archive"),
    (["predict", "--model", "{d}/run/model.npz", "--data", "{d}/objects.npz"], "never loads"),
    (["predict", "--model", "{d}/run/model.npz", "--data", "{d}/renamed.npz"], "looks like a text file"),
    (["train", "--data", "{d}/objects.npz"], "never loads"),
    (["predict", "--model", "{d}/run", "--data", "{d}/comma.csv"], "is a folder"),
])
def test_file_errors_never_suggest_unpickling(capsys, files, argv, fragment):
    code = main([a.format(d=files) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1
    assert "allow_pickle" not in err and "pickle.load" not in err


# ------------------------------------------------------------------ delimiters
@pytest.mark.parametrize("name", ["semi.csv", "tab.txt", "pipe.csv"])
def test_other_delimiters_are_detected(capsys, files, name):
    assert sniff_delimiter(str(files / name)) == {"semi.csv": ";", "tab.txt": "\t", "pipe.csv": "|"}[name]
    table = nn.read_table(str(files / name), target="label")
    ref = nn.read_table(str(files / "comma.csv"), target="label")
    np.testing.assert_array_equal(table.x, ref.x)
    assert table.feature_names == ["a", "b", "c"]
    code = main(["predict", "--model", str(files / "run" / "model.npz"), "--data", str(files / name)])
    out, err = capsys.readouterr()
    main(["predict", "--model", str(files / "run" / "model.npz"), "--data", str(files / "comma.csv")])
    assert code == 0 and out == capsys.readouterr().out and "accuracy" in err


def test_sniffing_keeps_commas_where_it_cannot_tell(tmp_path):
    (tmp_path / "one.csv").write_text("a\n1\n2\n")
    (tmp_path / "quoted.csv").write_text('name,a,b\n"x;y",1,2\n"z;w",3,4\n')
    assert sniff_delimiter(str(tmp_path / "one.csv")) == ","
    assert sniff_delimiter(str(tmp_path / "quoted.csv")) == ","


def test_a_decimal_comma_is_named(capsys, files):
    code = main(["train", "--data", str(files / "decimal_comma.csv"), "--out", str(files / "r2")])
    err = capsys.readouterr().err
    assert code == 2 and "decimal comma" in err and "'a'" in err


# ------------------------------------------------------------------ every formula function
ARGS = {"x": "[0.3, 0.6]", "y": "[0.5, -0.2]", "W": "[[1, 2], [0.5, -1]]"}
CALLS = {"arctan2": "arctan2(x, y)", "hypot": "hypot(x, y)", "logaddexp": "logaddexp(x, y)",
         "maximum": "maximum(x, y)", "minimum": "minimum(x, y)", "power": "power(x, y)",
         "dot": "dot(x, y)", "outer": "sum(outer(x, y))", "matmul": "sum(matmul(W, x))",
         "transpose": "sum(transpose(W) @ x)"}


@pytest.mark.parametrize("fn", FUNCTION_NAMES)
def test_every_listed_formula_function_works(capsys, fn):
    formula = CALLS.get(fn, f"sum({fn}(x))")
    names = [n for n in ARGS if n in formula.replace(fn, "")]
    values = [a for n in names for a in (f"--{n}", ARGS[n])]
    code = main(["explain", formula, *values, "--no-files", "--width", "160"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Backward pass" in out and "Traceback" not in err
