"""Hazards and warning levels of the CMA meteorological warning signals (中国气象局令第16号)."""

from __future__ import annotations

import enum


class Hazard(enum.StrEnum):
    RAINSTORM = "rainstorm"      # 暴雨
    SNOWSTORM = "snowstorm"      # 暴雪
    COLD_WAVE = "cold_wave"      # 寒潮
    GALE = "gale"                # 大风
    HEAT = "heat"                # 高温
    FROST = "frost"              # 霜冻
    FOG = "fog"                  # 大雾
    TYPHOON = "typhoon"          # 台风


class WarningLevel(enum.StrEnum):
    """blue < yellow < orange < red; compare with :attr:`rank`."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def cap_severity(self) -> str:
        """CAP 1.2 severity (DESIGN.md §4.2): blue Minor … red Extreme."""
        return _SEVERITY[self]


_RANK = {WarningLevel.BLUE: 1, WarningLevel.YELLOW: 2, WarningLevel.ORANGE: 3, WarningLevel.RED: 4}
_SEVERITY = {WarningLevel.BLUE: "Minor", WarningLevel.YELLOW: "Moderate",
             WarningLevel.ORANGE: "Severe", WarningLevel.RED: "Extreme"}

HAZARD_NAMES_ZH = {
    Hazard.RAINSTORM: "暴雨", Hazard.SNOWSTORM: "暴雪", Hazard.COLD_WAVE: "寒潮",
    Hazard.GALE: "大风", Hazard.HEAT: "高温", Hazard.FROST: "霜冻", Hazard.FOG: "大雾",
    Hazard.TYPHOON: "台风",
}
LEVEL_NAMES_ZH = {WarningLevel.BLUE: "蓝色", WarningLevel.YELLOW: "黄色",
                  WarningLevel.ORANGE: "橙色", WarningLevel.RED: "红色"}


def highest(levels: list[WarningLevel] | set[WarningLevel]) -> WarningLevel | None:
    """The highest of ``levels``, or ``None`` for none."""
    return max(levels, key=lambda lv: lv.rank, default=None)
