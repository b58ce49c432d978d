"""Agency names as printed → one entity per body (issue 9, deliverable 4): relative names are
qualified by the portal's region, suffix variants unify, parents printed or not make no
difference, and each entity has a type. Region names and hierarchy come from the division list."""

from __future__ import annotations

import pytest

from gxcrawl.extract.agencies import AgencyEntity, normalize_agency
from gxcrawl.extract.regions import contains, region_path

YICHUN, YUANZHOU, FENGCHENG = "360900", "360902", "360981"
GUANGZHOU, CONGHUA = "440100", "440117"
JIANGXI, HAIDIAN, ANXI = "360000", "110108", "350524"

CASES = [
    # printed name, portal region → canonical name, type, region
    ("市财政局", YICHUN, "宜春市财政局", "department", YICHUN),
    ("市财政局", YUANZHOU, "宜春市财政局", "department", YICHUN),  # a district's "市" is its city
    ("市财政局", FENGCHENG, "丰城市财政局", "department", FENGCHENG),  # a county-level city
    ("宜春市财政局", YUANZHOU, "宜春市财政局", "department", YICHUN),
    ("江西省宜春市财政局", JIANGXI, "宜春市财政局", "department", YICHUN),
    ("宜春市袁州区财政局", YICHUN, "袁州区财政局", "department", YUANZHOU),
    ("区政府办", YUANZHOU, "袁州区人民政府办公室", "government_office", YUANZHOU),
    ("区人民政府办公室", YUANZHOU, "袁州区人民政府办公室", "government_office", YUANZHOU),
    ("从化区人民政府", CONGHUA, "从化区人民政府", "government", CONGHUA),
    ("广州市从化区人民政府", CONGHUA, "从化区人民政府", "government", CONGHUA),
    ("广州市从化区人民政府", GUANGZHOU, "从化区人民政府", "government", CONGHUA),
    ("从化区政府", GUANGZHOU, "从化区人民政府", "government", CONGHUA),
    ("从化区温泉镇", CONGHUA, "从化区温泉镇人民政府", "township", CONGHUA),
    ("从化区温泉镇人民政府", CONGHUA, "从化区温泉镇人民政府", "township", CONGHUA),
    ("温泉镇人民政府", CONGHUA, "从化区温泉镇人民政府", "township", CONGHUA),
    ("温泉镇政府", CONGHUA, "从化区温泉镇人民政府", "township", CONGHUA),
    ("广州市从化区街口街道", GUANGZHOU, "从化区街口街道办事处", "township", CONGHUA),
    ("街口街道办", CONGHUA, "从化区街口街道办事处", "township", CONGHUA),
    ("从化区吕田镇人民政府", GUANGZHOU, "从化区吕田镇人民政府", "township", CONGHUA),
    ("鲤城区人民政府临江街道办事处", "350502", "鲤城区临江街道办事处", "township", "350502"),
    ("鲤城区临江街道", "350502", "鲤城区临江街道办事处", "township", "350502"),
    ("鲤城区政府临江街道办", "350500", "鲤城区临江街道办事处", "township", "350502"),
    ("县政府", ANXI, "安溪县人民政府", "government", ANXI),
    ("县人民政府", ANXI, "安溪县人民政府", "government", ANXI),
    ("安溪县", ANXI, "安溪县人民政府", "government", ANXI),
    ("安溪县龙门镇", ANXI, "安溪县龙门镇人民政府", "township", ANXI),
    ("福建省安溪县人民政府", ANXI, "安溪县人民政府", "government", ANXI),
    ("泉州市安溪县教育局", ANXI, "安溪县教育局", "department", ANXI),
    ("县教育局", ANXI, "安溪县教育局", "department", ANXI),
    ("教育局", ANXI, "安溪县教育局", "department", ANXI),  # a bare name is the portal's own
    ("省财政厅", JIANGXI, "江西省财政厅", "department", JIANGXI),
    ("江西省人民政府办公厅", JIANGXI, "江西省人民政府办公厅", "government_office", JIANGXI),
    ("宜春市人民政府", JIANGXI, "宜春市人民政府", "government", YICHUN),
    ("市政府", YICHUN, "宜春市人民政府", "government", YICHUN),
    # a portal division printed without 市/区/县, when a government body follows
    ("宜春经济技术开发区管委会", YICHUN, "宜春市经济技术开发区管理委员会", "department", YICHUN),
    ("从化温泉镇", CONGHUA, "从化区温泉镇人民政府", "township", CONGHUA),
    ("从化区", CONGHUA, "从化区人民政府", "government", CONGHUA),
    ("宜春学院", YICHUN, "宜春学院", "other", YICHUN),  # a college, not 宜春市学院
    ("中山大学", "442000", "中山大学", "other", "442000"),
    ("州财政局", "433100", "湘西土家族苗族自治州财政局", "department", "433100"),
    ("县政府", "433125", "保靖县人民政府", "government", "433125"),
    ("市场监督管理局", YICHUN, "宜春市市场监督管理局", "department", YICHUN),  # 市场 ≠ 市 + 场
    ("市市场监督管理局", YICHUN, "宜春市市场监督管理局", "department", YICHUN),
    (
        "宜春市人民政府国有资产监督管理委员会",
        YICHUN,
        "宜春市国有资产监督管理委员会",
        "department",
        YICHUN,
    ),
    ("市国有资产监督管理委员会", YICHUN, "宜春市国有资产监督管理委员会", "department", YICHUN),
    (
        "宜春市人民政府经济技术开发区管委会",
        YICHUN,
        "宜春市经济技术开发区管理委员会",
        "department",
        YICHUN,
    ),
    ("县委办", ANXI, "安溪县委办", "other", ANXI),  # a party office
    ("鄂尔多斯市伊金霍洛旗人民政府", "150600", "伊金霍洛旗人民政府", "government", "150627"),
    ("旗政府", "150627", "伊金霍洛旗人民政府", "government", "150627"),
    ("重庆市渝中区人民政府", "500000", "渝中区人民政府", "government", "500103"),
    ("东莞市莞城街道", "441900", "东莞市莞城街道办事处", "township", "441900"),
    ("市林业局", "429004", "仙桃市林业局", "department", "429004"),  # province-administered
    ("宜春市发展和改革委员会", YICHUN, "宜春市发展和改革委员会", "department", YICHUN),
    ("北京市海淀区财政局", HAIDIAN, "海淀区财政局", "department", HAIDIAN),
    ("区财政局", HAIDIAN, "海淀区财政局", "department", HAIDIAN),
    ("市财政局", HAIDIAN, "北京市财政局", "department", "110000"),  # a municipality's district
    (
        "朝阳区人民政府",
        "110000",
        "朝阳区人民政府",
        "government",
        "110105",
    ),  # Beijing's, not Changchun's
    ("朝阳区人民政府", "220100", "朝阳区人民政府", "government", "220104"),
    ("中国人民银行宜春市中心支行", YICHUN, "中国人民银行宜春市中心支行", "other", YICHUN),
    ("中共宜春市委宣传部", YICHUN, "中共宜春市委宣传部", "other", YICHUN),
    ("宜春市公共资源交易中心", YICHUN, "宜春市公共资源交易中心", "other", YICHUN),
    (
        "宜春市人民政府办公室（宜春市人民政府研究室）",
        YICHUN,
        "宜春市人民政府办公室",
        "government_office",
        YICHUN,
    ),
    (" 宜春市 财政局 ", YICHUN, "宜春市财政局", "department", YICHUN),  # spacing as printed
    ("市财政局", None, "市财政局", "department", None),  # no region: left as printed
]


@pytest.mark.parametrize(("printed", "portal_region", "name", "kind", "region"), CASES)
def test_normalize_agency(
    printed: str, portal_region: str | None, name: str, kind: str, region: str | None
) -> None:
    assert normalize_agency(printed, region_code=portal_region) == AgencyEntity(name, kind, region)


def test_same_named_bureaus_of_two_cities_are_two_entities() -> None:
    yichun = normalize_agency("市财政局", region_code=YICHUN)
    guangzhou = normalize_agency("市财政局", region_code=GUANGZHOU)
    assert yichun is not None and guangzhou is not None
    assert (yichun.name, yichun.region_code) != (guangzhou.name, guangzhou.region_code)
    assert guangzhou.name == "广州市财政局"


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_blank_names_are_no_entity(blank: str | None) -> None:
    assert normalize_agency(blank, region_code=YICHUN) is None


def test_region_path_names_every_level() -> None:
    path = region_path(CONGHUA)
    assert path is not None
    assert (path.province_name, path.prefecture_name, path.county_name) == (
        "广东省",
        "广州市",
        "从化区",
    )
    assert (path.province_code, path.prefecture_code, path.county_code) == (
        "440000",
        GUANGZHOU,
        CONGHUA,
    )


def test_region_path_of_a_code_missing_from_the_list_keeps_its_parents() -> None:
    path = region_path("440184")  # 从化市, a county-level city until 2014
    assert path is not None
    assert (path.province_name, path.prefecture_name, path.county_name) == (
        "广东省",
        "广州市",
        None,
    )


def test_municipality_districts_have_the_municipality_as_city() -> None:
    path = region_path(HAIDIAN)
    assert path is not None
    assert (path.prefecture_code, path.prefecture_name) == ("110000", "北京市")


def test_contains_follows_the_code_scheme() -> None:
    assert contains(GUANGZHOU, CONGHUA) and contains("440000", CONGHUA)
    assert not contains(YICHUN, CONGHUA) and not contains(CONGHUA, GUANGZHOU)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("江城市人民政府", "government"), ("江城市人民政府办公室", "government_office")],
)
def test_government_of_a_division_the_code_list_lacks(name: str, kind: str) -> None:
    entity = normalize_agency(name, region_code="990100")  # no such division
    assert entity is not None and entity.type == kind
