"""Table-driven tests of the annual-report title classifier (issue 4, item 3)."""

from __future__ import annotations

import pytest

from gxcrawl.extract.titles import classify_title, is_candidate, normalize_title, parse_year

# (title, is_report, year, agency)
POSITIVES: list[tuple[str, int, str | None]] = [
    # the seeds
    (
        "鲤城区人民政府临江街道办事处2020年政府信息公开工作年度报告",
        2020,
        "鲤城区人民政府临江街道办事处",
    ),
    ("张村镇2019年度信息公开工作报告", 2019, "张村镇"),
    ("建瓯市人民政府办公室2022年度政府信息公开工作年度报告", 2022, "建瓯市人民政府办公室"),
    ("bet365亚洲官网 办公室2021年政府信息公开工作年度报告", 2021, "bet365亚洲官网办公室"),
    ("衢州市衢江区机关事务保障中心2020年度信息公开年度报告", 2020, "衢州市衢江区机关事务保障中心"),
    # 年 / 年度 and the phrase variants
    ("安溪县人民政府2023年政府信息公开工作年度报告", 2023, "安溪县人民政府"),
    ("闽侯县人民政府2025年度政府信息公开工作年度报告", 2025, "闽侯县人民政府"),
    ("人力资源社会保障部2023年政府信息公开工作年度报告", 2023, "人力资源社会保障部"),
    ("水利部2022年政府信息公开年度报告", 2022, "水利部"),
    ("退役军人事务部2021年度政府信息公开工作报告", 2021, "退役军人事务部"),
    ("天津市人民政府2020年政府信息公开年报", 2020, "天津市人民政府"),
    ("正蓝旗扎格斯台苏木2023年政府信息公开年报", 2023, "正蓝旗扎格斯台苏木"),
    ("江宁区人民政府2023年政务公开年度报告", 2023, "江宁区人民政府"),
    ("上海市2022年政务公开工作年度报告", 2022, "上海市"),
    ("包头市卫生健康委员会2023年度政府信息公开工作年度报告", 2023, "包头市卫生健康委员会"),
    ("市生态环境局2017年政府信息公开工作年度报告", 2017, "市生态环境局"),
    ("西藏自治区人民政府2014年政府信息公开工作年度报告", 2014, "西藏自治区人民政府"),
    ("XX局2019年度信息公开工作报告", 2019, "XX局"),
    ("北京市发展和改革委员会2021年政府信息公开工作年度报告", 2021, "北京市发展和改革委员会"),
    ("某县人民政府关于2020年度政府信息公开工作情况的报告", 2020, "某县人民政府"),
    ("2019年度政务信息公开工作报告", 2019, None),
    # agency missing
    ("2020年政府信息公开工作年度报告", 2020, None),
    ("2008年政府信息公开工作年度报告", 2008, None),
    ("2021年度政府信息公开工作年度报告", 2021, None),
    ("2023年信息公开年报", 2023, None),
    # agency after the year
    ("2021年海淀区人民政府政府信息公开工作年度报告", 2021, "海淀区人民政府"),
    ("2022年度万年县教育体育局信息公开工作年度报告", 2022, "万年县教育体育局"),
    # phrase ate the 政府 of 人民政府: the agency is restored
    ("靖安县人民政府2023年信息公开工作年度报告", 2023, "靖安县人民政府"),
    ("2019年度桐梓县人民政府信息公开工作年度报告", 2019, "桐梓县人民政府"),
    # year after the phrase
    ("海南省工业和信息化厅政府信息公开工作年度报告（2022年度）", 2022, "海南省工业和信息化厅"),
    ("南京市人民政府政府信息公开年度报告(2019年)", 2019, "南京市人民政府"),
    (
        "昆明市人力资源和社会保障局政府信息公开工作年度报告【2021】",
        2021,
        "昆明市人力资源和社会保障局",
    ),
    # Chinese-numeral and full-width years
    ("某某镇二〇二〇年政府信息公开工作年度报告", 2020, "某某镇"),
    ("二○二一年度政府信息公开工作年度报告", 2021, None),
    ("临夏市二零二三年度政府信息公开工作年度报告", 2023, "临夏市"),
    ("榆林市生态环境局２０２２年政府信息公开工作年度报告", 2022, "榆林市生态环境局"),
    # suffixes, prefixes, spacing, site names
    ("广州市人民政府办公厅2024年政府信息公开工作年度报告（图解）", 2024, "广州市人民政府办公厅"),
    ("长春市人民政府办公厅2024年政府信息公开工作年度报告（PDF）", 2024, "长春市人民政府办公厅"),
    ("沈阳市司法局2024年度政府信息公开工作年度报告(PDF)", 2024, "沈阳市司法局"),
    ("【图解】高平市2023年政府信息公开工作年度报告", 2023, "高平市"),
    ("乌恰县2025年政府信息公开工作年度报告.pdf", 2025, "乌恰县"),
    ("重庆市綦江区人民政府 2023年 政府信息公开工作年度报告", 2023, "重庆市綦江区人民政府"),
    (
        "鲤城区人民政府临江街道办事处2020年政府信息公开工作年度报告_鲤城区人民政府",
        2020,
        "鲤城区人民政府临江街道办事处",
    ),
    ("兴庆区人民政府2023年政府信息公开工作年度报告 - 银川市兴庆区人民政府", 2023, "兴庆区人民政府"),
    ("钦北区2023年政府信息公开工作年度报告（全文）", 2023, "钦北区"),
    ("临江街道2020年政府信息公开工作年度报告-鲤城区人民政府", 2020, "临江街道"),
    ("2022年度政府信息公开工作年度报告—宁夏回族自治区应急管理厅", 2022, None),
    ("2019年政府信息公开工作年度报告（2020年1月20日）", 2019, None),
    ("某局2019年政府信息公开工作年度报告(2020-01-15)", 2019, "某局"),
]

# (title, year visible in the title, expected reason)
NEGATIVES: list[tuple[str, int | None, str]] = [
    ("关于做好2020年政府信息公开工作年度报告编制和发布工作的通知", 2020, "notice_about_report"),
    ("关于报送2021年度政府信息公开工作年度报告的通知", 2021, "notice_about_report"),
    ("关于2019年度政府信息公开工作年度报告的公告", 2019, "notice_about_report"),
    ("关于印发《中华人民共和国政府信息公开工作年度报告格式》的通知", None, "notice_about_report"),
    ("关于开展2020年度企业年报公示工作的通知", 2020, "notice_about_report"),
    ("2020年政府信息公开工作年度报告编制说明", 2020, "notice_about_report"),
    ("关于2022年度政府信息公开工作年度报告的更正", 2022, "notice_about_report"),
    ("《2020年政府信息公开工作年度报告》解读", 2020, "interpretation"),
    ("一图读懂2021年政府信息公开工作年度报告", 2021, "interpretation"),
    ("关于2020年度政府信息公开工作年度报告评估结果的通报", 2020, "evaluation"),
    ("2021年度政府信息公开工作年度报告考核结果", 2021, "evaluation"),
    ("2021年政府工作报告", 2021, "government_work_report"),
    ("2022年安溪县人民政府工作报告", 2022, "government_work_report"),
    (
        "政府工作报告（2023年1月5日在县第十八届人民代表大会第三次会议上）",
        2023,
        "government_work_report",
    ),
    ("2021年政务公开工作要点", 2021, "work_points"),
    ("关于印发2022年政务公开工作要点的通知", 2022, "work_points"),
    ("2020年政府信息公开工作总结", 2020, "work_summary"),
    ("张村镇2019年工作总结和2020年工作计划", 2019, "work_summary"),
    ("2020年国民经济和社会发展统计公报", 2020, "statistical_bulletin"),
    ("2021年部门预算公开", 2021, "budget"),
    ("某局2020年度部门决算", 2020, "budget"),
    ("2022年法治政府建设情况报告", 2022, "rule_of_law_report"),
    ("关于2021年度法治政府建设工作情况的报告", 2021, "rule_of_law_report"),
    ("2021年政府网站工作年度报表", 2021, "website_report"),
    ("2020年度审计工作报告", 2020, "other_report"),
    ("某某公司2021年度环境信息公开报告", 2021, "other_report"),
    ("政府信息公开工作年度报告", None, "no_year"),
    ("2019年政府信息公开工作年度报告第二部分", 2019, "other_report"),
    ("政府信息公开年报", None, "no_year"),
    # no report-like word at all
    ("政府信息公开指南", None, "unrelated"),
    ("关于开展春季植树活动的通知", None, "unrelated"),
    ("2021年信息公开目录", 2021, "unrelated"),
    ("首页", None, "unrelated"),
    ("", None, "unrelated"),
]


@pytest.mark.parametrize(("title", "year", "agency"), POSITIVES)
def test_positive_titles(title: str, year: int, agency: str | None) -> None:
    verdict = classify_title(title)
    assert (verdict.is_report, verdict.year, verdict.agency) == (True, year, agency)
    assert verdict.reason == "report"


@pytest.mark.parametrize(("title", "year", "reason"), NEGATIVES)
def test_negative_titles(title: str, year: int | None, reason: str) -> None:
    verdict = classify_title(title)
    assert (verdict.is_report, verdict.year, verdict.agency) == (False, year, None)
    assert verdict.reason == reason


def test_table_is_large_enough() -> None:
    assert len(POSITIVES) + len(NEGATIVES) >= 60


# Issue 9: a report revised or re-published in place is still the report (year, agency kept);
# a statement *about* correcting it is not.
REVISED: list[tuple[str, int, str | None]] = [
    ("宜春市财政局2023年政府信息公开工作年度报告（修订稿）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告(修订版)", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告【修订】", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告修订稿", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（更正版）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（更正稿）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（更正）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（更正后）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（更新）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告更新版", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（第二版）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（重新发布）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（再次发布）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告〔调整版〕", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（2024年3月修订）", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告(2024.03.01更新)", 2023, "宜春市财政局"),
    ("宜春市财政局2023年政府信息公开工作年度报告（修订稿）_宜春市人民政府", 2023, "宜春市财政局"),
    ("宜春市财政局（修订稿）2023年政府信息公开工作年度报告", 2023, "宜春市财政局"),
    ("【更正】宜春市财政局2023年政府信息公开工作年度报告", 2023, "宜春市财政局"),
    ("（修订版）2023年政府信息公开工作年度报告", 2023, None),
    ("重新发布：宜春市财政局2023年政府信息公开工作年度报告", 2023, "宜春市财政局"),
    ("修订稿 宜春市财政局2023年政府信息公开工作年度报告", 2023, "宜春市财政局"),
    ("宜春市财政局政府信息公开工作年度报告（2023年度）（修订稿）", 2023, "宜春市财政局"),
]
REVISION_LOOKALIKES: list[tuple[str, int | None, str]] = [
    ("关于宜春市财政局2023年政府信息公开工作年度报告更正的通知", 2023, "notice_about_report"),
    ("关于2023年政府信息公开工作年度报告的更正说明", 2023, "notice_about_report"),
    ("宜春市财政局2023年政府信息公开工作年度报告的更正", 2023, "notice_about_report"),
    ("宜春市财政局2023年政府信息公开工作年度报告（更正说明）", 2023, "notice_about_report"),
    ("宜春市财政局2023年政府信息公开工作年度报告更正声明", 2023, "notice_about_report"),
    ("关于重新发布2023年政府信息公开工作年度报告的通知", 2023, "notice_about_report"),
    ("关于修订2023年度政府信息公开工作年度报告格式的通知", 2023, "notice_about_report"),
    ("关于宜春市财政局2023年政府信息公开工作年度报告的修订", 2023, "other_report"),
]


@pytest.mark.parametrize(("title", "year", "agency"), REVISED)
def test_revised_titles_are_reports(title: str, year: int, agency: str | None) -> None:
    verdict = classify_title(title)
    assert (verdict.is_report, verdict.year, verdict.agency) == (True, year, agency)
    assert is_candidate(title)


@pytest.mark.parametrize(("title", "year", "reason"), REVISION_LOOKALIKES)
def test_notices_about_revisions_stay_lookalikes(title: str, year: int | None, reason: str) -> None:
    verdict = classify_title(title)
    assert (verdict.is_report, verdict.year, verdict.reason) == (False, year, reason)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("鲤城区人民政府临江街道办事处2020年政府信息公开工作年度报告", True),
        ("鲤城区人民政府临江街道办事处2020年政府信息公...", True),
        ("建瓯市人民政府办公室2022年度政府信…", True),
        ("建瓯市人民政府办公室2022年度...", True),
        ("某局政府信息公开工作年度报告", True),  # no year: the detail page decides
        ("2021年政府工...", False),  # heading for 政府工作报告
        ("关于做好2020年政府信息公开工作年度报告编制...", False),
        ("2021年政务公开工作要点", False),
        ("2021年政府工作报告", False),
        ("关于开展春季植树活动的...", False),
        ("鲤城区人民政府临江街道办事处...", False),  # cut before any evidence
        ("新闻动态", False),
    ],
)
def test_is_candidate(title: str, expected: bool) -> None:
    assert is_candidate(title) is expected


def test_every_positive_is_a_candidate() -> None:
    for title, _, _ in POSITIVES:
        assert is_candidate(title), title


@pytest.mark.parametrize(
    ("token", "year"),
    [("2020", 2020), ("二〇二〇", 2020), ("二○一九", 2019), ("二零二三", 2023), ("1899", None)],
)
def test_parse_year(token: str, year: int | None) -> None:
    assert parse_year(token) == year


def test_normalize_title() -> None:
    assert normalize_title(" 某县 ２０２１年　报告 ") == "某县2021年报告"


def test_a_huge_title_is_read_from_its_start() -> None:
    """A 20,000-dot or whitespace-flooded <title> (hostile pages) reads like its first part."""
    title = "某县2020年政府信息公开工作年度报告"
    assert classify_title(title + "." * 20_000) == classify_title(title + "...")
    assert classify_title(title + " " * 50_000 + "x") == classify_title(title)
    assert is_candidate(title + "…" * 20_000)
