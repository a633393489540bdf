"""An import's refusal reads in Chinese: the summary, and each row's field messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from disaster.access import cli_actor
from gis.errors import ValidationError
from gis.messages import translate
from tests.web.data_factories import COUNTY, TOWN_B, build_city
from tests.web.test_catalogue_coverage import _catalogue
from web.data_io import import_file


def _zh(text: str) -> str:
    known = _catalogue()
    return translate(text, lambda key: known.get(key, key))


def test_bad_rows_are_explained_in_chinese(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "社区.csv"
    path.write_text("code,name,township_code,county_code,population,households,urban,lon,lat\n"
                    f"{TOWN_B}001,东关村,341302099,{COUNTY},800,290,否,117.01,33.65\n"
                    f"{TOWN_B}002,西关村,{TOWN_B},{COUNTY},-5,290,也许,117.03,33.65\n"
                    f"{TOWN_B}003,南关村,{TOWN_B},{COUNTY},700,800,是,2.35,48.85\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, cli_actor(), "communities", path)
    summary = _zh(caught.value.message)
    assert summary.startswith("社区.csv：村/社区有 3 行有误") and "未导入任何数据" in summary
    fields = {k: [_zh(m) for m in v] for k, v in caught.value.fields.items()}
    assert fields == {
        "row 1: code": ["341302002001 不以乡镇代码 341302099 开头"],
        "row 1: township_code": ["未知的乡镇 341302099"],
        "row 2: population": ["不能小于 0"],
        "row 2: urban": ["必须是“是”或“否”"],
        "row 3: households": ["800 超过人口数 700"],
        "row 3: lon/lat": ["(2.350, 48.850, 2.350, 48.850) 不是中国境内合理的经纬度"],
    }
