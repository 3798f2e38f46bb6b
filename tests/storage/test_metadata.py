"""The ground-state metadata record (nqsgen.storage.metadata): one typed record that the writer
validates before publishing and every reader opens through."""

from __future__ import annotations

import json
from math import comb

import numpy as np
import pytest
from mpi4py import MPI

from nqsgen import storage
from nqsgen.errors import StorageError
from nqsgen.storage.metadata import GroundStateMetadata, read_metadata

SHA = "0" * 64


def _meta(**change) -> dict:
    meta = {"n_sites": 4, "n_up": 2, "dimension": comb(4, 2), "energy": -8.0, "j1": 1.0,
            "j2": 0.0, "shards": [{"file": "part-00000-0000.parquet", "row_start": 0,
                                   "rows": 6, "sha256": SHA}], "solver": "dense"}
    meta.update(change)
    return meta


def test_the_record_keeps_every_key_and_types_the_ones_readers_use():
    record = GroundStateMetadata.parse(_meta(), "m.json")
    assert (record.n_sites, record.dimension, record.energy, record.stored_rows) == (4, 6, -8.0, 6)
    assert not record.symmetric and record.shards[0].rows == 6
    assert record.to_json() == _meta()  # provenance ("solver") kept, nothing added


@pytest.mark.parametrize(("change", "fragment"), [
    ({"n_sites": True}, "'n_sites' is True, not a integer"),
    ({"n_sites": 4.0}, "'n_sites' is 4.0, not a integer"),
    ({"n_sites": 5}, "n_sites = 5 is not an even number in [2, 64]"),
    ({"energy": "-8"}, "'energy' is '-8', not a"),
    ({"energy": float("nan")}, "energy = nan is not finite"),
    ({"j2": None}, "'j2' is None, not a"),
    ({"symmetries": "full"}, "lacks the key 'n_representatives' (a symmetric state)"),
    ({"shards": [{"file": "part-00000-0000.parquet", "row_start": 1, "rows": 6,
                  "sha256": SHA}]}, "shard 0: rows 1..7 do not continue at row 0"),
    ({"shards": []}, "the shards hold 0 rows, the metadata says 6"),
    ({"shards": [{"file": "part-00000-0000.parquet", "row_start": 0, "rows": 6,
                  "sha256": "xyz"}]}, "(shard 0): sha256 is not a 64-digit hex digest"),
])
def test_a_bad_record_is_refused_in_one_line_naming_the_key(change, fragment):
    with pytest.raises(StorageError) as info:
        GroundStateMetadata.parse(_meta(**change), "m.json")
    message = str(info.value)
    assert message.startswith("m.json") and fragment in message and "\n" not in message, message


def test_the_writer_publishes_only_what_the_reader_accepts(tmp_path):
    out = tmp_path / "gs"
    states = np.array([3, 5, 6, 9, 10, 12], dtype=np.uint64)
    columns = {"state": states, "amplitude": np.full(6, 1 / np.sqrt(6))}
    storage.write_ground_state(out, MPI.COMM_SELF, 0, columns, {"n_sites": 4, "dimension": 6,
                                                                "energy": -6.0, "note": "x"})
    record = read_metadata(out)
    assert record.model_extra["note"] == "x" and record.model_extra["storage"]["shard_rows"] > 0
    assert json.loads((out / "metadata.json").read_text()) == record.to_json()
    with pytest.raises(StorageError, match="dimension = 7 is not C"):
        storage.write_ground_state(tmp_path / "bad", MPI.COMM_SELF, 0, columns,
                                   {"n_sites": 4, "dimension": 7, "energy": -6.0})
    assert not (tmp_path / "bad").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gs"]  # no temporary left
