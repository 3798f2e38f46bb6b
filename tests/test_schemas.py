"""Output schemas: the writers conform to them, a typo'd column is an error, and the
documentation of every column (docs/outputs.md) is generated from them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nqsgen import schemas

REPO = Path(__file__).resolve().parents[1]


def test_documented_columns_are_the_schemas():
    assert (REPO / "docs/outputs.md").read_text() == schemas.document()


def test_every_column_has_a_description_and_every_run_file_shares_one_schema():
    for schema in schemas.PUBLISHED:
        for field in schema:
            assert field.metadata and field.metadata.get(b"description"), field.name
    assert schemas.TRAIN_RUN.names[:len(schemas.TRAIN_METRICS)] == schemas.TRAIN_METRICS.names
    assert set(schemas.TRAIN_CURVES.names) <= set(schemas.TRAIN_RUN.names)


def test_table_conforms_rows_and_refuses_unknown_columns():
    table = schemas.table([{"cluster": "square_10", "j2": 0.5, "seed": 3, "epoch": 1}],
                          schemas.TRAIN_RUN)
    assert table.schema == schemas.TRAIN_RUN and table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["seed"] == 3 and row["overlap"] is None and row["epoch"] == 1
    with pytest.raises(ValueError, match="overlapp"):
        schemas.table([{"overlapp": 0.5}], schemas.TRAIN_METRICS)
    assert math.isnan(schemas.table({"overlap": [math.nan]}, schemas.TRAIN_METRICS)
                      .column("overlap")[0].as_py())
