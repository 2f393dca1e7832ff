"""Per-customer tables: columns chosen, id-like columns excluded, imputation recorded."""

import ibis
import pandas as pd
import pytest

from custseg import DataError, UsageError, segment
from custseg._prep._customers import customer_table


def prepare(frame: pd.DataFrame, **kwargs):
    return customer_table(ibis.memtable(frame), "table.csv", **kwargs)


def test_numeric_columns_imputed_and_ids_excluded():
    frame = pd.DataFrame({"cust": ["a", "b", "c", "d"], "account_id": [11, 12, 13, 14], "x": ["1,5", "2,5", "", "4,5"],
                          "y": [1.0, 2.0, 3.0, 4.0], "gender": ["F", "M", "F", "M"]})
    table, names, notes = prepare(frame, id_column="cust")
    assert names == ["x", "y"]
    assert table["x"].tolist() == [1.5, 2.5, 2.5, 4.5]
    assert notes["imputed"] == {"x": {"missing": 1, "median": 2.5}}
    assert notes["excluded_id_like"] == ["account_id"] and notes["ignored_text"] == ["gender"]


def test_one_hot_encoding_of_text_columns():
    frame = pd.DataFrame({"cust": ["a", "b", "c"], "spend": [1.0, 2.0, 3.0], "gender": ["F", "M", "F"]})
    table, names, notes = prepare(frame, id_column="cust", categorical="onehot")
    assert names == ["spend", "gender=F", "gender=M"]
    assert table["gender=F"].tolist() == [1.0, 0.0, 1.0]


def test_errors():
    frame = pd.DataFrame({"cust": ["a", "a"], "spend": [1.0, 2.0]})
    with pytest.raises(DataError, match="'a' appears more than once"):
        prepare(frame, id_column="cust")
    with pytest.raises(DataError, match="missing id column 'id'"):
        prepare(frame, id_column="id")
    with pytest.raises(DataError, match="column 'name' is not numeric"):
        prepare(pd.DataFrame({"name": ["x", "y"], "v": [1.0, 2.0]}), columns=["name"])
    with pytest.raises(UsageError, match="categorical must be one of"):
        prepare(frame, categorical="drop")


def test_cc_general(cc_general_csv):
    result = segment(cc_general_csv, customers=True, id_column="CUST_ID")
    notes = result.cleaning["preparation"]
    assert len(result.features) == 17 and result.run["n_customers"] == 8_950
    assert notes["imputed"]["MINIMUM_PAYMENTS"]["missing"] == 313 and notes["imputed"]["CREDIT_LIMIT"]["missing"] == 1
    assert result.assignments["customer_id"].is_unique
    assert result.profiles["size"].sum() == 8_950
    assert result.profiles["name_en"].is_unique


def test_mall_customers_with_gender_one_hot(mall_csv):
    result = segment(mall_csv, customers=True, id_column="CustomerID", categorical="onehot", k=5)
    assert result.features == ["Genre=Female", "Genre=Male", "Age", "Annual Income (k$)", "Spending Score (1-100)"]
    assert result.assignments["customer_id"].iloc[0] == "0001"  # zero-padded ids kept as text
    assert result.k == 5 and result.profiles["size"].sum() == 200
