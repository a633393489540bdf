"""The sample written as import files in the CONTRACT's columns."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pyogrio

from disaster.sample import write_dataset
from disaster.sample.__main__ import main
from tests.disaster.sample.support import by_level


def test_written_files_use_the_contract_columns_and_read_back(sample, tmp_path):
    manifest = write_dataset(sample, tmp_path)
    assert manifest["counts"]["communities"] == len(sample.communities)
    stored = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert stored["fingerprint"] == sample.fingerprint() and stored["generated"]
    frame = pyogrio.read_dataframe(tmp_path / "communities.geojson")
    assert frame.crs.to_epsg() == 4326
    assert {"code", "name", "township_code", "county_code", "population",
            "households"} <= set(frame.columns)
    assert int(frame["population"].sum()) == 5324900
    header = (tmp_path / "shelters.csv").read_text("utf-8").splitlines()[0].split(",")
    assert header[:6] == ["code", "name", "kind", "capacity", "occupancy", "status"]
    assert header[-2:] == ["lon", "lat"]
    areas = pyogrio.read_dataframe(tmp_path / "areas.geojson")
    assert Counter(areas["level"]) == {"city": 1, "county": 5,
                                       "township": len(by_level(sample, "township"))}
    officers = (tmp_path / "officers.csv").read_text("utf-8").splitlines()
    assert len(officers) == len(sample.officers) + 1


def test_the_module_command_writes_the_files(sample, tmp_path, capsys, monkeypatch):
    # Generation itself is covered elsewhere; here the command's options and output.
    import disaster.sample.__main__ as cli

    calls = []
    monkeypatch.setattr(cli, "generate_sample",
                        lambda seed, as_of: calls.append((seed, as_of)) or sample)
    assert main([str(tmp_path / "out"), "--seed", "5", "--as-of", "2026-11-29"]) == 0
    assert calls == [(5, dt.date(2026, 11, 29))]
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert json.loads(capsys.readouterr().out)["shelters"] == len(sample.shelters)
