"""Metadata from each source, and their precedence."""

from __future__ import annotations

import lxml.html

from gxcrawl.extract import metadata
from gxcrawl.extract.page import extract_page
from gxcrawl.extract.types import PortalHints


def test_pipe_text_rows() -> None:
    rows = [
        "索引号: | 330803-042/2021-46930 | 公开方式: | 主动公开 | ||",
        "发布单位: | 区机关事务保障中心 | 成文日期: | 2021-02-20 | ||",
        "有效性: | 文件编号: | ||||",
    ]
    found: dict[str, str] = {}
    for row in rows:
        found.update(metadata.pairs_from_line(row))
    assert found == {
        "index_no": "330803-042/2021-46930",
        "disclosure_mode": "主动公开",
        "publisher": "区机关事务保障中心",
        "written_date": "2021-02-20",
    }
    assert all(metadata.is_metadata_line(r) for r in rows)


def test_inline_lines_with_spaced_labels() -> None:
    assert metadata.pairs_from_line("索 引 号：000014349/2021-00007　　主题分类：政务公开") == {
        "index_no": "000014349/2021-00007",
        "category": "政务公开",
    }
    assert metadata.pairs_from_line("文　　号：东政〔2021〕3号  时　　效：有效") == {
        "doc_no": "东政〔2021〕3号",
        "validity": "有效",
    }
    assert metadata.pairs_from_line(
        "发布时间：2023-01-18 10:21 来源：建瓯市人民政府办公室 字号：大 中 小"
    ) == {
        "publish_date": "2023-01-18",
        "source": "建瓯市人民政府办公室",
    }


def test_prose_is_not_metadata() -> None:
    line = "根据《条例》规定，本报告由情况概述等组成，所列数据的统计期限截至2020年12月31日。"
    assert metadata.pairs_from_line(line) == {}
    assert not metadata.is_metadata_line(line)


def test_xxgk_table_th_td() -> None:
    table = lxml.html.fromstring(
        '<table class="xxgk_table"><tr><th>索引号:</th><td>330803-042/2021-46930</td>'
        "<th>公开方式:</th><td>主动公开</td></tr><tr><th>有效性:</th><td></td>"
        "<th>文件编号:</th><td></td></tr><tr><th>分类</th><td>年度报告</td></tr></table>"
    )
    assert metadata.table_pairs(table) == {
        "index_no": "330803-042/2021-46930",
        "disclosure_mode": "主动公开",
        "category": "年度报告",
    }


def test_statistics_table_is_not_metadata() -> None:
    table = lxml.html.fromstring(
        "<table><tr><td>统 计 指 标</td><td>单位</td><td>年度累计数</td></tr>"
        "<tr><td>(一)收到申请数</td><td>件</td><td>0</td></tr></table>"
    )
    assert metadata.table_pairs(table) == {}


def test_meta_tags() -> None:
    root = lxml.html.document_fromstring(
        '<html><head><meta name="ArticleTitle" content="某局2021年政府信息公开工作年度报告">'
        '<meta name="PubDate" content="2022-01-28 09:15:00">'
        '<meta name="ContentSource" content="某局">'
        '<meta name="ColumnName" content="年度报告"><meta name="SiteName" content="某市人民政府">'
        "</head><body></body></html>"
    )
    assert metadata.meta_tags(root) == {
        "title": "某局2021年政府信息公开工作年度报告",
        "publish_date": "2022-01-28",
        "source": "某局",
        "category": "年度报告",
    }


def test_header_line() -> None:
    assert metadata.header_line("2021-01-06 00:00:00 来源:鲤城区-政府 评论:0 点击:") == {
        "publish_date": "2021-01-06",
        "source": "鲤城区-政府",
    }
    assert metadata.header_line("2021年1月6日召开政务公开工作会议") == {}


def test_signoff_forms() -> None:
    assert metadata.signoff(["六、其他需要报告的事项", "无。", "某街道办事处", "2021年1月6日"]) == (
        "某街道办事处",
        "2021-01-06",
    )
    assert metadata.signoff(["无", "东阳镇人民政府", "二○二一年一月六日"]) == (
        "东阳镇人民政府",
        "2021-01-06",
    )
    assert metadata.signoff(["无", "东阳镇人民政府 二〇二一年一月六日"]) == (
        "东阳镇人民政府",
        "2021-01-06",
    )
    # A date inside a sentence or a table row is not a sign-off.
    assert metadata.signoff(["联系电话: 739907 填报日期:2020.12.29"]) == (None, None)
    assert metadata.signoff(["本报告统计期限为2021年1月1日至2021年12月31日。"]) == (None, None)


def test_region_code() -> None:
    assert metadata.region_from_index("330803-042/2021-46930") == "330803"
    assert metadata.region_from_index("014314799/2024-00002") is None
    assert metadata.region_from_index(None) is None


def test_merge_precedence() -> None:
    md = metadata.merge(
        tables=[{"publisher": "表格单位", "written_date": "2021-02-20"}],
        text_pairs=[{"publisher": "文本单位", "doc_no": "某发〔2021〕1号"}],
        meta={"publish_date": "2021-02-21", "source": "来源单位"},
        headers=[{"publish_date": "2021-02-22"}],
        signoff_pair=("落款单位", "2021-01-06"),
        region_hint="110101",
    )
    assert md.get("publisher") == "表格单位"
    assert md.get("written_date") == "2021-02-20"
    assert md.get("doc_no") == "某发〔2021〕1号"
    assert md.get("publish_date") == "2021-02-21"
    assert md.signoff_agency == "落款单位"
    assert md.region_code == "110101"
    # 来源 names a CMS column or site: its own field, never the publisher.
    md = metadata.merge([], [], {"source": "来源单位"}, [], (None, "2021-01-06"))
    assert md.get("publisher") is None
    assert md.get("source") == "来源单位"
    assert md.get("written_date") == "2021-01-06"
    assert md.region_code is None


def _report(extra_head: str = "", body_tail: str = "", title: str = "") -> str:
    return (
        f"<html><head><title>{title}</title>{extra_head}</head><body>"
        '<div id="zoom"><p>一、总体情况。本年度主动公开政府信息一百余条，工作扎实推进。</p>'
        f"{body_tail}</div></body></html>"
    )


def test_agency_chain_title_then_signoff_then_publisher_then_hint() -> None:
    url = "http://x.example/a.html"
    title = "某县水利局2021年政府信息公开工作年度报告"
    assert extract_page(_report(title=title), url).agency == "某县水利局"
    no_agency = "2021年政府信息公开工作年度报告"
    label = "<p>发布机构：某县财政局</p>"
    result = extract_page(_report(title=no_agency).replace("<body>", "<body>" + label), url)
    assert (result.agency, result.publisher) == ("某县财政局", "某县财政局")
    assert not {"agency_from_registry", "agency_missing"} & set(result.flags)
    signoff = "<p>某县审计局</p><p>2022年1月5日</p>"
    assert extract_page(_report(body_tail=signoff, title=no_agency), url).agency == "某县审计局"
    # A 来源 tag is not an agency at all: the registry name (flagged) comes first.
    source = '<meta name="ContentSource" content="某县财政局">'
    tagged = extract_page(_report(source, title=no_agency), url, PortalHints(agency="某县人民政府"))
    assert (tagged.agency, tagged.source, tagged.publisher) == ("某县人民政府", "某县财政局", None)
    assert "agency_from_registry" in tagged.flags
    untagged = extract_page(_report(source, title=no_agency), url)
    assert untagged.agency is None and "agency_missing" in untagged.flags
    hinted = extract_page(_report(title=no_agency), url, PortalHints(agency="某县人民政府"))
    assert hinted.agency == "某县人民政府"
    bare = extract_page(_report(title=no_agency), url)
    assert bare.agency is None and "agency_missing" in bare.flags


def test_spam_in_title_agency_is_never_the_agency() -> None:
    title = "bet365亚洲官网 办公室2021年政府信息公开工作年度报告"
    result = extract_page(_report(title=title), "http://x.example/a.html")
    assert result.title == "办公室2021年政府信息公开工作年度报告"
    assert result.agency is None
    assert {"spam_injected", "title_agency_spam", "agency_missing"} <= set(result.flags)


def test_year_from_body_when_title_has_none() -> None:
    body = "<p>本报告中所列数据的统计期限自2019年1月1日起至2019年12月31日止。</p>"
    result = extract_page(_report(body_tail=body, title="信息公开年报"), "http://x.example/")
    assert result.year == 2019


def test_header_line_inside_body_is_read_and_removed() -> None:
    header = "<p>2021-01-06 00:00:00 来源:鲤城区-政府 评论:0 点击:</p>"
    result = extract_page(
        _report(body_tail=header, title="某街道2020年政府信息公开工作年度报告"), "http://x/"
    )
    assert result.publish_date == "2021-01-06"
    assert (result.source, result.publisher) == ("鲤城区-政府", None)
    assert "评论" not in result.text
    assert ("header", "2021-01-06 00:00:00 来源:鲤城区-政府 评论:0 点击:") in [
        (r.kind, r.text) for r in result.removed
    ]


def test_labels_glued_to_the_previous_value() -> None:
    """gkmlpt prints <label>/<span> pairs with no space: each label still starts a pair."""
    assert metadata.pairs_from_line("索引号：007029012/2023-00015分类：综合政务、政务公开") == {
        "index_no": "007029012/2023-00015",
        "category": "综合政务、政务公开",
    }
    assert metadata.pairs_from_line("发布机构：某区人民政府办公室成文日期：2023-01-17") == {
        "publisher": "某区人民政府办公室",
        "written_date": "2023-01-17",
    }
    # An empty value right before the next label.
    assert metadata.pairs_from_line("文号：发布日期：2023-01-18") == {"publish_date": "2023-01-18"}
    # The looser reading is only for lines that open with a label: prose stays prose.
    prose = "本报告于2021年1月6日起在网站公开，发布日期：2021-01-06"
    assert metadata.pairs_from_line(prose) == {}


def test_gkmlpt_label_span_block_on_a_page() -> None:
    block = (
        '<div class="introduce">'
        "<div><label>索引号：</label><span>007029012/2023-00015</span>"
        "<label>分类：</label><span>综合政务</span></div>"
        "<div><label>文号：</label><span></span><label>发布日期：</label><span>2023-01-18</span>"
        "</div></div>"
    )
    html = _report(title="某区人民政府办公室2022年度政府信息公开工作年度报告").replace(
        "<body>", "<body>" + block
    )
    result = extract_page(html, "http://x.example/gkmlpt/content/2/2150/post_2150123.html")
    assert (result.index_no, result.category, result.publish_date, result.doc_no) == (
        "007029012/2023-00015",
        "综合政务",
        "2023-01-18",
        None,
    )
    # Label rows with no mapped value are still recorded as metadata, not "boilerplate".
    kinds = {r.text: r.kind for r in result.removed}
    assert kinds["文号：发布日期：2023-01-18"] == "metadata"


def test_region_code_from_unified_credit_code() -> None:
    assert metadata.credit_code_ok("113416230032458768")
    assert metadata.credit_code_ok("11440205007029012W")
    assert not metadata.credit_code_ok("113416230032458767")  # check code off by one
    assert not metadata.credit_code_ok("11341623003245876")  # 17 characters
    assert metadata.region_from_index("113416230032458768/2020-00012") == "341623"
    assert metadata.region_from_index("11440205007029012w-2023-00001") == "440205"
    # 18 characters with a wrong check code: an ordinary serial, not a region.
    assert metadata.region_from_index("113416230032458767/2020-00012") is None
    # The division-code prefix form still wins when present.
    assert metadata.region_from_index("341623-001/2020-00012") == "341623"


def test_bare_time_and_date_column_heads_do_not_make_a_metadata_table() -> None:
    """时间/日期 label a news header's publication time, but a report's own tables use them as
    column heads: such a table stays in the text."""
    log = lxml.html.fromstring(
        "<table><tr><td>日期</td><td>时间</td><td>内容</td></tr>"
        "<tr><td>2023-05-10</td><td>上午</td><td>政务公开培训</td></tr></table>"
    )
    assert metadata.table_pairs(log) == {}
    block = lxml.html.fromstring(
        "<table><tr><td>索引号：</td><td>360900-0101/2024-00011</td>"
        "<td>日期：</td><td>2024-01-22</td></tr></table>"
    )
    assert metadata.table_pairs(block) == {
        "index_no": "360900-0101/2024-00011",
        "publish_date": "2024-01-22",
    }


def test_a_website_is_not_an_agency() -> None:
    assert metadata.looks_like_agency("宜春市财政局")
    assert metadata.looks_like_agency("宜春市水文站")
    assert not metadata.looks_like_agency("宜春市人民政府门户网站")
    assert not metadata.signoff(["宜春市人民政府网站", "2024年1月20日"])[0]
