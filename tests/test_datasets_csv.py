"""load_csv: columns, ids, targets, and the error messages a user sees for a malformed file."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon.datasets import CsvData, load_csv


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SIMPLE = "id,a,b,target\n0,1.5,2,10\n1,3,4.25,20\n2,-1,0,30\n"


def test_basic_columns_target_and_ids(tmp_path):
    data = load_csv(_csv(tmp_path, SIMPLE), target="target")
    assert isinstance(data, CsvData)
    assert data.feature_names == ["a", "b"]  # the id column is not a feature
    np.testing.assert_array_equal(data.X, np.array([[1.5, 2], [3, 4.25], [-1, 0]], np.float32))
    np.testing.assert_array_equal(data.y, [10, 20, 30])
    assert data.X.dtype == np.float32 and data.y.dtype == np.float32 and data.y.shape == (3,)
    assert data.ids.dtype == np.int64 and list(data.ids) == [0, 1, 2]
    assert data.target_name == "target" and data.n_samples == 3 and data.n_features == 2
    assert data.target_is_integral and data.classes is None
    X, y, names = data  # unpacks like a tuple
    assert X is data.X and y is data.y and names == ["a", "b"]


def test_float64_and_target_by_position(tmp_path):
    data = load_csv(_csv(tmp_path, SIMPLE), target=-1, dtype="float64")
    assert data.X.dtype == np.float64 and data.y.dtype == np.float64 and data.target_name == "target"


def test_default_dtype_follows_axon(tmp_path):
    ax.set_default_dtype("float64")
    assert load_csv(_csv(tmp_path, SIMPLE), target="target").X.dtype == np.float64


def test_no_target_gives_the_same_features_and_ids(tmp_path):
    train = load_csv(_csv(tmp_path, SIMPLE), target="target")
    test = load_csv(_csv(tmp_path, "id,a,b\n7,1,2\n8,3,4\n", "test.csv"), target=None)
    assert test.y is None and test.target_name is None
    assert test.feature_names == train.feature_names
    assert list(test.ids) == [7, 8]


def test_features_drop_and_id_column(tmp_path):
    path = _csv(tmp_path, SIMPLE)
    assert load_csv(path, target="target", features=["b", "a"]).feature_names == ["b", "a"]
    assert load_csv(path, target="target", drop=["a"]).feature_names == ["b"]
    data = load_csv(path, target="target", id_column=None)
    assert data.feature_names == ["id", "a", "b"] and data.ids is None
    no_id = load_csv(_csv(tmp_path, "x,y\n1,2\n", "n.csv"), target="y")
    assert no_id.ids is None and no_id.feature_names == ["x"]


def test_text_ids_stay_strings(tmp_path):
    data = load_csv(_csv(tmp_path, "id,x,y\nA-1,1,2\nB-2,3,4\n"), target="y")
    assert list(data.ids) == ["A-1", "B-2"]


def test_text_target_is_encoded_as_classes(tmp_path):
    data = load_csv(_csv(tmp_path, "x1,x2,species\n1,2,setosa\n3,4,virginica\n5,6, setosa\n"), target="species")
    assert data.classes == ["setosa", "virginica"]
    assert data.y.dtype == np.int64 and list(data.y) == [0, 1, 0]
    assert data.target_is_integral


def test_repeated_names_get_suffixes_and_the_last_is_the_target(tmp_path):
    text = "id,cli,pos,cli,pos\n0,1,2,3,4\n1,5,6,7,8\n"
    data = load_csv(_csv(tmp_path, text), target="pos")
    assert data.feature_names == ["cli", "pos", "cli.1"]
    np.testing.assert_array_equal(data.y, [4, 8])
    first = load_csv(_csv(tmp_path, text), target="pos.1", features=["cli", "cli.1"])
    np.testing.assert_array_equal(first.y, [4, 8])
    dropped = load_csv(_csv(tmp_path, text), target="pos", drop=["cli"])
    assert dropped.feature_names == ["pos"]  # a repeated name drops every column of that name


def test_bom_whitespace_blank_lines_quotes_and_semicolons(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes('\ufeff id ; "a" ; t \n\n0; 1.5 ;"2"\n\n1;2;3\n'.encode())
    data = load_csv(path, target="t", delimiter=";")
    assert data.feature_names == ["a"]
    np.testing.assert_array_equal(data.X[:, 0], [1.5, 2])
    np.testing.assert_array_equal(data.y, [2, 3])


# --- error messages -------------------------------------------------------------------------------

def test_non_numeric_cell_names_file_line_column_and_value(tmp_path):
    path = _csv(tmp_path, "id,a,b,target\n0,1,2,3\n1,1,abc,3\n2,x,2,3\n")
    with pytest.raises(ValueError) as info:
        load_csv(path, target="target")
    msg = str(info.value)
    assert str(path) in msg and "line 3" in msg and "'b'" in msg and "'abc'" in msg and "non-numeric" in msg


@pytest.mark.parametrize("cell", ["", "NA", "nan", " ", "?"])
def test_missing_value(tmp_path, cell):
    path = _csv(tmp_path, f"a,b,t\n1,2,3\n4,{cell},6\n")
    with pytest.raises(ValueError, match=r"line 3, column 'b': missing value"):
        load_csv(path, target="t")


def test_infinite_value(tmp_path):
    with pytest.raises(ValueError, match=r"line 2, column 'a': non-finite value 'inf'"):
        load_csv(_csv(tmp_path, "a,t\ninf,1\n"), target="t")


def test_missing_target_value(tmp_path):
    with pytest.raises(ValueError, match=r"line 4, column 't': missing value"):
        load_csv(_csv(tmp_path, "a,t\n1,1\n2,2\n3,\n"), target="t")


def test_typo_in_a_numeric_target(tmp_path):
    with pytest.raises(ValueError, match=r"line 3, column 't': non-numeric value '2\.5x'"):
        load_csv(_csv(tmp_path, "a,t\n1,1.5\n2,2.5x\n3,3\n"), target="t")


def test_unknown_target_lists_columns_and_suggests(tmp_path):
    with pytest.raises(ValueError) as info:
        load_csv(_csv(tmp_path, SIMPLE), target="tagret")
    msg = str(info.value)
    assert "no column 'tagret'" in msg and "id, a, b, target" in msg and "did you mean 'target'" in msg


def test_unknown_feature_and_target_among_features(tmp_path):
    path = _csv(tmp_path, SIMPLE)
    with pytest.raises(ValueError, match="no column 'c' for features"):
        load_csv(path, target="target", features=["a", "c"])
    with pytest.raises(ValueError, match="also listed in features"):
        load_csv(path, target="target", features=["a", "target"])
    with pytest.raises(TypeError, match="features must be a list"):
        load_csv(path, target="target", features="a")
    with pytest.raises(ValueError, match="out of range"):
        load_csv(path, target=9)


def test_ragged_row(tmp_path):
    with pytest.raises(ValueError, match=r"line 3: 2 values, but the header has 3 columns"):
        load_csv(_csv(tmp_path, "a,b,t\n1,2,3\n1,2\n"), target="t")


@pytest.mark.parametrize("text, message", [("", "the file is empty"), ("a,b,t\n", "no data rows"),
                                           ("t\n1\n", "no feature columns")])
def test_empty_files(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_csv(_csv(tmp_path, text), target="t")


def test_not_a_text_file(tmp_path):
    path = tmp_path / "model.axon"
    path.write_bytes(b"\x89PNG\xff\xfe\x00\x01" * 10)
    with pytest.raises(ValueError, match="not a UTF-8 text file"):
        load_csv(path, target="t")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "nope.csv", target="t")
    with pytest.raises(ValueError, match="is a folder"):
        load_csv(tmp_path, target="t")


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=3, max_size=3),
                       min_size=1, max_size=20))
def test_round_trip_of_written_numbers(tmp_path_factory, values):
    array = np.array(values, dtype=np.float64)
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    lines = ["id,x0,x1,y"] + [f"{i},{r[0]!r},{r[1]!r},{r[2]!r}" for i, r in enumerate(array.tolist())]
    path.write_text("\n".join(lines) + "\n")
    data = load_csv(path, target="y", dtype="float64")
    np.testing.assert_array_equal(data.X, array[:, :2])
    np.testing.assert_array_equal(data.y, array[:, 2])
    np.testing.assert_array_equal(data.ids, np.arange(len(array)))


# --- the course's COVID-19 file -----------------------------------------------------------------

def test_covid_train_and_test(covid_dir):
    train = load_csv(covid_dir / "covid.train.csv", target="tested_positive")
    assert train.X.shape == (2699, 116) and train.y.shape == (2699,)
    assert train.X.dtype == np.float32 and "id" not in train.feature_names
    assert train.feature_names[:2] == ["AL", "AK"] and train.feature_names[-1] == "worried_finances.4"
    assert len(set(train.feature_names)) == 116
    raw = np.loadtxt(covid_dir / "covid.train.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(train.y, raw[:, -1], rtol=1e-6)  # the LAST tested_positive is the target
    np.testing.assert_allclose(train.X, raw[:, 1:-1], rtol=1e-6)
    np.testing.assert_array_equal(train.ids, raw[:, 0].astype(np.int64))
    assert not train.target_is_integral
    test = load_csv(covid_dir / "covid.test.csv", target=None)
    assert test.X.shape == (1078, 116) and test.feature_names == train.feature_names and len(test.ids) == 1078
