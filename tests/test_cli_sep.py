"""``--sep``: the field separator given by hand, for a table the sniffer cannot read (issue 17)."""

import numpy as np
import pytest

from chainrule.cli.main import main


def _table(path, sep):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    rows = [sep.join(f"{v:.4f}" for v in r) + f"{sep}{'yes' if r[0] > 0 else 'no'}" for r in x]
    path.write_text(sep.join(["a", "b", "c", "label"]) + "\n" + "\n".join(rows) + "\n")
    return path


def _train(tmp_path, data, *extra):
    return main(["train", "--data", str(data), "--target", "label", "--epochs", "2", "--no-plot",
                 "--no-gradcheck", "--progress", "none", "--out", str(tmp_path / "run"), *extra])


def test_a_colon_table_needs_sep_and_trains_with_it(tmp_path, capsys):
    data = _table(tmp_path / "t.txt", ":")
    assert _train(tmp_path, data, "--sep", ":") == 0
    assert _train(tmp_path, data) != 0  # not one of the separators the sniffer tries
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_predict_takes_sep_too(tmp_path, capsys):
    data = _table(tmp_path / "t.txt", ":")
    assert _train(tmp_path, data, "--sep", ":") == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "run" / "model.npz"), "--data", str(data),
                 "--sep", ":"]) == 0
    out = capsys.readouterr().out.split()
    assert len(out) >= 60 and set(out[-60:]) <= {"yes", "no"}


@pytest.mark.parametrize("spelling", ["\\t", "tab"])
def test_a_tab_can_be_spelled(tmp_path, spelling):
    data = _table(tmp_path / "t.txt", "\t")
    assert _train(tmp_path, data, "--sep", spelling) == 0


@pytest.mark.parametrize("bad", ["ab", "1", ".", '"'])
def test_a_bad_separator_is_one_line(tmp_path, capsys, bad):
    data = _table(tmp_path / "t.txt", ":")
    with pytest.raises(SystemExit) as e:
        _train(tmp_path, data, "--sep", bad)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--sep" in err and "Traceback" not in err
