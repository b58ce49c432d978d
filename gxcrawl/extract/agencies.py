"""Agency names as printed → one normalised agency entity (pure: names in, entity out).

Reports name their agency as the page happens to print it: ``市财政局`` (which city?),
``从化区温泉镇`` vs ``从化区温泉镇人民政府``, ``广州市从化区人民政府`` vs ``从化区人民政府``,
``县政府`` vs ``县人民政府``. `normalize_agency` turns each into one canonical form within a
division:

- Region prefixes printed in full (``广州市从化区…``) are read against the division code list:
  the innermost one is the entity's region and the canonical name starts with its name only
  (``从化区人民政府``, region 440117), so the same body printed with or without its parents is
  one entity.
- A portal division printed without its last character is read too (``从化温泉镇``), when a
  government body follows (``宜春学院`` is no 宜春市 body).
- A relative prefix (``市``, ``区``, ``县``, ``旗``, ``州``, ``盟``, ``省``) is qualified by the
  portal's region: the nearest division of the portal's chain whose name ends with that character
  (``市财政局`` on a 宜春 portal → ``宜春市财政局``; on a 丰城市 portal → ``丰城市财政局``).
- A bare name (``财政局``, ``温泉镇``) is qualified by the portal's region itself, unless it
  already names a region somewhere or is a national/party body (``中国人民银行…``, ``中共…``).
- Suffix variants are unified: ``…镇``/``…乡`` → ``…镇人民政府``; ``…街道``/``…街道办`` →
  ``…街道办事处``; ``区人民政府…街道`` → ``区…街道``; ``…政府`` → ``…人民政府``;
  ``…政府办`` → ``…人民政府办公室``; ``管委会`` → ``管理委员会``.

Types: ``government`` (…人民政府), ``government_office`` (…人民政府办公室/办公厅),
``township`` (a town, township or sub-district), ``department`` (局, 厅, 委员会, 办公室, …),
``other`` (party organs, courts, centres, companies, unknown).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gxcrawl.extract import regions
from gxcrawl.extract.regions import Division

GOVERNMENT, GOVERNMENT_OFFICE, TOWNSHIP, DEPARTMENT, OTHER = (
    "government",
    "government_office",
    "township",
    "department",
    "other",
)
AGENCY_TYPES = (GOVERNMENT, GOVERNMENT_OFFICE, TOWNSHIP, DEPARTMENT, OTHER)

GOV = "人民政府"
# A two-character division name (城区, 矿区, 郊区) is a common word too: read it only when the
# portal's province has it, never from the whole country.
SHORT_NAME_CHARS = 2
# Words that start with a relative marker but are no region reference: 市场监督管理局 is not
# "the city's 场监督管理局".
_NOT_RELATIVE = ("市场", "市容", "市民", "市政工程", "市政公用", "市政管理", "市政设施", "区域")
_RELATIVE_MARKERS = "省市区县旗州盟"
# Division names commonly printed without this last character (从化区 → 从化).
_SHORTENED = ("市", "区", "县")
# Names never qualified by the portal's region: national bodies and party organs.
_UNQUALIFIED_PREFIXES = ("中国", "中共", "中华", "国家", "全国")
_DEPARTMENT_SUFFIXES = ("局", "厅", "委员会", "委", "办公室", "办", "署", "处")
_TOWN = re.compile(r"(?:镇|乡|苏木)人民政府$|街道办事处$")
# A government of a division the code list does not know (new, renamed or mistyped codes):
# the name still says what it is.
_UNKNOWN_DIVISION_GOV = re.compile(
    r"^.+?(?:省|自治区|市|自治州|州|盟|地区|县|旗|区)人民政府(办公室|办公厅)?$"
)
_SPACE = re.compile(r"\s+")
_NOTE = re.compile(r"\([^()]*\)$")
_SUFFIXES = (  # (pattern, replacement) applied in order to the part after the region name
    (re.compile(r"管委会"), "管理委员会"),
    # 鲤城区人民政府临江街道办事处 = 鲤城区临江街道办事处: the government is not part of the name
    (re.compile(r"^(?:人民)?政府(?=.+?(?:镇|乡|街道|苏木)(?:人民政府|政府|办事处|办)?$)"), ""),
    # …市人民政府国有资产监督管理委员会 = …市国有资产监督管理委员会 (but 人民政府办公室 stays)
    (re.compile(r"^(?:人民)?政府(?!办)(?=.+(?:局|委员会)$)"), ""),
    (re.compile(r"(?<!人民)政府(?=办|$)"), GOV),
    (re.compile(r"人民政府办$"), "人民政府办公室"),
    (re.compile(r"^(.+?(?:镇|乡|苏木))$"), r"\1人民政府"),
    (re.compile(r"^(.+?街道)(?:办)?$"), r"\1办事处"),
)


@dataclass(frozen=True)
class AgencyEntity:
    name: str  # canonical name: the region's full name + the unified rest
    type: str  # one of AGENCY_TYPES
    region_code: str | None  # 6-digit code of the division the agency belongs to


def normalize_agency(name: str | None, *, region_code: str | None) -> AgencyEntity | None:
    """The agency entity of a printed name on a portal of `region_code` (None for a blank)."""
    printed = _clean(name)
    if not printed:
        return None
    context = regions.chain(region_code)
    matched, rest = _read_regions(printed, context)
    if matched is None:
        matched, rest = _read_short_name(printed, context)
    if matched is None:
        matched, rest = _qualify(printed, context)
    rest = _unify(rest)
    code = matched.code if matched else regions.pad(region_code)
    full = (matched.name if matched else "") + rest
    return AgencyEntity(full, _classify(rest, full), code)


def _clean(name: str | None) -> str:
    text = _SPACE.sub("", unicodedata.normalize("NFKC", name or "")).strip("，,。.:：;；")
    # A trailing note is another name of the same body (…办公室（…研究室）): not part of it.
    return _NOTE.sub("", text) or text


def _read_regions(
    text: str, context: list[Division], current: Division | None = None, pos: int = 0
) -> tuple[Division | None, str]:
    """Consume leading region names (each one a child of the one before); the innermost wins."""
    while True:
        found = _region_at(text, pos, current, context)
        if found is None:
            return current, text[pos:]
        current, pos = found


def _region_at(
    text: str, pos: int, parent: Division | None, context: list[Division]
) -> tuple[Division, int] | None:
    for length in range(min(regions.longest_name(), len(text) - pos), 1, -1):
        candidates = regions.divisions_named(text[pos : pos + length])
        if parent is not None:  # a division within the one before (a level may be skipped)
            chosen = [
                d for d in candidates if d != parent and regions.contains(parent.code, d.code)
            ]
        else:
            chosen = _plausible(candidates, context, length)
        if len(chosen) == 1:
            return chosen[0], pos + length
    return None


def _plausible(
    candidates: tuple[Division, ...], context: list[Division], length: int
) -> list[Division]:
    """Of the divisions with a name, those the portal can mean: within its province first
    (then within its prefecture), else a name unique in the country."""
    if not candidates:
        return []
    province = context[-1].code if context else None
    near = [d for d in candidates if regions.contains(province, d.code)]
    if len(near) > 1 and len(context) > 1:
        near = [d for d in near if regions.contains(context[-2].code, d.code)] or near
    if near or length <= SHORT_NAME_CHARS:
        return near
    return list(candidates)


def _read_short_name(text: str, context: list[Division]) -> tuple[Division | None, str]:
    """A portal division printed without its 市/区/县 (从化温泉镇, 宜春经济技术开发区管委会),
    read only when a government body follows (宜春学院, 中山大学 stay as printed)."""
    for div in context:
        short = _short(div.name)
        if short == div.name or not div.name.endswith(_SHORTENED) or not text.startswith(short):
            continue
        matched, rest = _read_regions(text, context, div, len(short))
        unified = _unify(rest)
        if rest and _classify(unified, unified) != OTHER:
            return matched, rest
    return None, text


def _qualify(text: str, context: list[Division]) -> tuple[Division | None, str]:
    """A relative (市财政局) or bare (财政局) name: the portal's division it refers to."""
    if not context:
        return None, text
    marker = text[0]
    if marker in _RELATIVE_MARKERS and not text.startswith(_NOT_RELATIVE):
        referent = _referent(marker, context)
        return (referent, text[1:]) if referent else (None, text)
    if text.startswith(_UNQUALIFIED_PREFIXES) or _names_a_region(text, context):
        return None, text
    return context[0], text


def _referent(marker: str, context: list[Division]) -> Division | None:
    """The nearest division of the portal's chain a relative marker means (市 → a 市)."""
    for div in context:
        if div.name.endswith(marker):
            return div
    return None


def _names_a_region(text: str, context: list[Division]) -> bool:
    """The name already carries one of the portal's divisions, in full or short (宜春经济技术
    开发区 is 宜春's own zone, not to be prefixed again)."""
    return any(div.name in text or text.startswith(_short(div.name)) for div in context)


def _short(name: str) -> str:
    """宜春市 → 宜春; a two-character name (城区) has no shorter form."""
    return name[:-1] if len(name) > SHORT_NAME_CHARS else name


def _unify(rest: str) -> str:
    if not rest:
        return GOV  # a division's bare name stands for its government
    for pattern, replacement in _SUFFIXES:
        rest = pattern.sub(replacement, rest)
    return rest


def _classify(rest: str, full: str) -> str:
    if full.startswith(("中共", "中国共产党")) or rest.startswith("委"):  # party: 县委办
        return OTHER
    if rest == GOV:
        return GOVERNMENT
    if rest in (GOV + "办公室", GOV + "办公厅"):
        return GOVERNMENT_OFFICE
    if _TOWN.search(rest):
        return TOWNSHIP
    unknown = _UNKNOWN_DIVISION_GOV.match(rest)
    if unknown:
        return GOVERNMENT_OFFICE if unknown.group(1) else GOVERNMENT
    if rest.endswith(_DEPARTMENT_SUFFIXES):
        return DEPARTMENT
    return OTHER
