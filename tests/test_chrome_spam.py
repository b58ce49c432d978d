"""Chrome lines/blocks and spam injections are removed, and every removal is recorded."""

from __future__ import annotations

import lxml.html
import pytest

from gxcrawl.extract import chrome, spam
from gxcrawl.extract.content import element_lines
from gxcrawl.extract.page import extract_page


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("分享到:", "chrome"),
        ("分享到：微信 微博 QQ空间", "chrome"),
        ("[收藏] [打印] [关闭]", "chrome"),
        ("用微信扫描二维码分享至好友和朋友圈", "chrome"),
        ("扫一扫在手机打开当前页", "chrome"),
        ("【字体：大 中 小】", "chrome"),
        ("【打印本页】 【关闭窗口】", "chrome"),
        ("收起", "chrome"),
        ("智能问答", "nav"),
        ("政务微博", "nav"),
        ("2021-01-06 00:00:00 来源:鲤城区-政府 评论:0 点击:", "header"),
        ("当前位置：首页 > 政务公开", "breadcrumb"),
        ("PDF下载:建瓯市人民政府办公室2022年度政府信息公开工作年度报告", "download"),
        ("网站标识码：3505020001 闽ICP备05005011号", "footer"),
        ("主办单位：鲤城区人民政府", "footer"),
    ],
)
def test_chrome_lines(line: str, kind: str) -> None:
    assert chrome.classify_line(line) == kind


@pytest.mark.parametrize(
    "line",
    [
        "一、总体情况",
        "(二)公开形式。充分利用区政府公文交换信息系统、市机关事务中心网站发布工作动态信息。",
        "3.政务微博公开政府信息数 | 条 | 0",
        "4.微博微信回应事件数 | 次 | 0",
        "鲤城区人民政府临江街道办事处",
        "2021年1月6日",
        "构建政务新媒体矩阵，加强网站、微信、微博、移动客户端等平台的互融互通。",
    ],
)
def test_body_lines_are_not_chrome(line: str) -> None:
    assert chrome.classify_line(line) is None


def test_chrome_blocks_dropped_and_recorded() -> None:
    root = lxml.html.fromstring(
        '<div><p>正文第一段。</p><div class="bdsharebuttonbox">分享到：<a>微信</a></div>'
        '<div class="position">当前位置：首页</div><p>正文第二段。</p></div>'
    )
    removed = chrome.strip_chrome_blocks(root)
    assert element_lines(root) == ["正文第一段。", "正文第二段。"]
    assert [(r.kind, r.text) for r in removed] == [
        ("chrome", "分享到：微信"),
        ("breadcrumb", "当前位置：首页"),
    ]


def test_visible_spam_replacing_agency_name() -> None:
    clean, spans = spam.strip_spam_text("bet365亚洲官网 办公室2021年政府信息公开工作年度报告")
    assert clean == "办公室2021年政府信息公开工作年度报告"
    assert spans == ["bet365亚洲官网"]


def test_spam_span_takes_glued_weak_words() -> None:
    clean, spans = spam.strip_spam_text("请访问澳门葡京官网了解")
    assert "葡京" not in clean and "澳门" not in clean
    assert spans == ["澳门葡京官网"]


@pytest.mark.parametrize(
    "text",
    [
        "推进内地与香港、澳门合作",
        "为群众办理社保卡开户业务",
        "皇冠假日酒店会议室",
        "体育彩票公益金",
    ],
)
def test_weak_words_alone_are_not_spam(text: str) -> None:
    assert spam.strip_spam_text(text) == (text, [])
    assert not spam.has_spam(text)


def test_terms_file_has_both_tiers() -> None:
    strong, weak = spam.spam_terms()
    assert {"bet365", "博彩", "葡京", "威尼斯人", "体育投注", "亚洲官网"} <= set(strong)
    assert {"澳门", "开户", "真人", "皇冠"} <= set(weak)
    assert not set(strong) & set(weak)


@pytest.mark.parametrize(
    "style",
    [
        "display:none",
        "DISPLAY: NONE;",
        "visibility:hidden",
        "position:absolute;left:-9999px;top:-9999px",
        "text-indent:-5000px",
        "font-size:0px",
        "font-size:0",
        "height:0;overflow:hidden",
    ],
)
def test_hidden_styles(style: str) -> None:
    el = lxml.html.fromstring(f'<div style="{style}">x</div>')
    assert spam.is_hidden(el, set(), set())


@pytest.mark.parametrize("style", ["display:block", "font-size:12px", "left:-10px", "height:0"])
def test_visible_styles(style: str) -> None:
    el = lxml.html.fromstring(f'<div style="{style}">x</div>')
    assert not spam.is_hidden(el, set(), set())


def test_hidden_through_style_block_class() -> None:
    root = lxml.html.document_fromstring(
        "<html><head><style>.a1, #b2 {display:none} .ok{color:red}</style></head>"
        '<body><div class="x a1">h</div><p id="b2">h</p><div class="ok">v</div></body></html>'
    )
    classes, ids = spam.hidden_css(root)
    assert classes == {"a1"} and ids == {"b2"}


def _page(body: str) -> str:
    return (
        "<html><head><title>某区人民政府2021年政府信息公开工作年度报告</title></head><body>"
        '<div class="TRS_Editor"><p>一、总体情况。本年度主动公开政府信息百余条，工作扎实推进。</p>'
        f"{body}"
        "</div></body></html>"
    )


def test_hidden_spam_block_is_spam_and_flags() -> None:
    links = "".join(f'<a href="https://s{i}.example/">真人百家乐{i}</a>' for i in range(6))
    result = extract_page(_page(f'<div style="display:none">{links}</div>'), "http://x.example/")
    assert "spam_injected" in result.flags
    assert "百家乐" not in result.text
    assert any(r.kind == "spam" and "百家乐" in r.text for r in result.removed)


def test_hidden_harmless_block_is_not_spam() -> None:
    result = extract_page(_page('<div style="display:none">加载中</div>'), "http://x.example/")
    assert "spam_injected" not in result.flags
    assert "加载中" not in result.text
    assert [r.kind for r in result.removed if r.text == "加载中"] == ["hidden"]


def test_visible_offsite_link_farm_in_body() -> None:
    links = " ".join(f'<a href="https://shop{i}.example/">商品链接{i}</a>' for i in range(6))
    result = extract_page(_page(f"<p>{links}</p>"), "http://www.x.gov.cn/a.html")
    assert "商品链接" not in result.text
    assert "spam_injected" in result.flags


def test_gov_link_list_in_body_is_kept() -> None:
    links = " ".join(f'<a href="http://d{i}.gov.cn/">部门{i}</a>' for i in range(6))
    result = extract_page(_page(f"<p>{links}</p>"), "http://www.x.gov.cn/a.html")
    assert "部门5" in result.text
    assert "spam_injected" not in result.flags
