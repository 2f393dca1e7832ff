"""The Arrow CSV writer of large tables writes the same cells as the pandas one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg._outputs import write_csv, write_large_csv


def test_large_csv_has_the_cells_of_write_csv(tmp_path):
    frame = pd.DataFrame({
        "customer_id": ["a", "=HYPERLINK(1)", "x,y", 'q"z', None, "line\nbreak", "-3", "@me", "'=1"],
        "segment_id": [1, 2, 3, 1, 2, 3, 1, 2, 3],
        "value": [0.1, 1e-5, np.nan, -3.25, 1e16, 123456789.123456789, -0.0, 2.5e-300, 7.0],
        "flag": [True, False, True, False, True, False, True, False, True],
    })
    write_csv(frame, tmp_path / "pandas.csv")
    write_large_csv(frame, tmp_path / "arrow.csv")
    read = {name: pd.read_csv(tmp_path / f"{name}.csv", dtype={"customer_id": str}, keep_default_na=False,
                              na_values={"value": [""]}) for name in ("pandas", "arrow")}
    pd.testing.assert_frame_equal(read["pandas"], read["arrow"])
    assert read["arrow"]["customer_id"].tolist()[:2] == ["a", "'=HYPERLINK(1)"]
    assert read["arrow"]["flag"].dtype == bool and np.isnan(read["arrow"]["value"][2])


def test_json_keeps_content_and_writes_nan_as_null():
    import json

    from custseg._outputs import dump_json

    data = {"a": [1.0, np.nan, np.float64(2.5), np.inf], "b": {"c": [], "d": {}, "e": [{"x": 1}, [1, 2]], 1: "i"},
            "f": np.array([1, 2]), "g": "é", "h": (1, 2), "ids": [str(i) for i in range(1000)]}
    text = dump_json(data)
    assert json.loads(text) == {"a": [1.0, None, 2.5, None], "b": {"c": [], "d": {}, "e": [{"x": 1}, [1, 2]], "1": "i"},
                                "f": [1, 2], "g": "é", "h": [1, 2], "ids": [str(i) for i in range(1000)]}
    assert text.startswith('{\n  "a": [1.0, null, 2.5, null],\n') and "é" in text and text.endswith("}\n")
