"""Block pages, challenges and soft 404s are told apart from real content."""

from __future__ import annotations

import pytest

from gxcrawl.extract.blocks import classify_fetch, own_text

NAV = "".join(f'<li><a href="/col{n}/">栏目{n}</a></li>' for n in range(30))
FOOTER = (
    "<div class='footer'>主办单位：示例县人民政府办公室 网站标识码：3505240001 "
    "闽ICP备05012345号 闽公网安备 35052402000123号</div>"
)

REPORT_PARAGRAPHS = (
    "<p>根据《中华人民共和国政府信息公开条例》规定，现公布本机关2020年政府信息公开工作年度报告。"
    "本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
    "政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项组成。</p>"
    "<p>一、总体情况。2020年，我局全面贯彻落实党中央、国务院关于全面推进政务公开工作的决策部署，"
    "主动公开政府信息146条，其中政策文件12条，规划计划8条，财政预决算4条。</p>"
    "<p>二、收到和处理政府信息公开申请情况。本年新收政府信息公开申请3件，上年结转0件，"
    "予以公开2件，部分公开1件，结转下年度继续办理0件。</p>"
)


def _report(extra: str, head: str = "") -> str:
    return (
        f"<html><head><title>示例局2020年政府信息公开工作年度报告</title>{head}</head><body>"
        f"<ul class='nav'>{NAV}</ul><div class='TRS_Editor'>{REPORT_PARAGRAPHS}{extra}"
        f"{REPORT_PARAGRAPHS}</div>{FOOTER}</body></html>"
    )


RUISHU = """<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta id="9DhefwqGPrzGxEp9hPaoag" content="_3tNwhdAVrEuZ9wVvlq0pZ8C.Wf3Nnx" r='m'>
<script type="text/javascript" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=84913;
$_ts.cd="qErdrrAlEcqmcGAlqqqrqqqqWqlqqGlqrqqlqAqrrYqrqqlt";</script>
<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js" r='m'>
</script></head><body></body></html>"""

JIASULE = """<html><body><script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+
('l')+('e')+('a')+('r')+('a')+('n')+('c')+('e')+('=')+(1700000000)+'.123|0|'+'abc';
location.href=location.pathname+location.search</script></body></html>"""

UNKNOWN_CHALLENGE = """<html><head><script src="/_guard/auto.js"></script></head>
<body><script>var t=Date.now();setTimeout(function(){location.reload()},800)</script>
<noscript>请开启JavaScript</noscript></body></html>"""

SAFEDOG = """<html><head><title>网站防火墙</title></head><body><div class="main">
<h3>您的请求带有不合法参数，已被网站管理员设置拦截！</h3><p>可能原因：您提交的内容包含危险的攻击请求</p>
<p>如何解决：1）检查提交内容；2）如网站托管，请联系空间提供商；3）普通网站访客，请联系网站管理员</p>
<p><a href="http://www.safedog.cn/">安全狗</a></p></div></body></html>"""

CHUANGYU = """<html><head><title>访问拦截</title></head><body>
<h1>您的访问被拦截</h1><p>您的访问疑似攻击行为，已被创宇云防御拦截。</p>
<p>拦截时间：2024-03-01 10:00:00 事件ID：8f2c1a</p></body></html>"""

CAPTCHA = """<html><head><title>安全验证</title></head><body><form action="/verify">
<p>请输入验证码后继续访问</p><img src="/captcha.jpg"><input name="code"><button>提交</button>
</form></body></html>"""

SOFT_404_WITH_MENUS = (
    f"<html><head><title>页面不存在_示例县人民政府</title></head><body><ul class='nav'>{NAV}</ul>"
    "<div class='err'>抱歉，您访问的页面不存在或已被删除！<a href='/'>返回首页</a></div>"
    f"{FOOTER}</body></html>"
)
SOFT_404_PLAIN = "<html><body><h1>404</h1><p>Not Found</p><a href='/'>返回首页</a></body></html>"
DELETED = (
    f"<html><head><title>示例县人民政府</title></head><body><ul>{NAV}</ul>"
    f"<p>该信息已删除</p>{FOOTER}</body></html>"
)

LIST_PAGE = (
    "<html><head><title>政府信息公开年报</title></head><body>"
    "<div class='top'>用户登录 用户名 密码 验证码</div>"
    + "".join(
        f"<li><a href='./2024{m:02d}/t2024{m:02d}01_{m}.html'>"
        f"某局{2010 + m}年政府信息公开工作年度报告</a>"
        f"<span>2024-{m:02d}-01</span></li>"
        for m in range(1, 13)
    )
    + f"{FOOTER}</body></html>"
)


@pytest.mark.parametrize(
    ("status", "headers", "text"),
    [
        (412, {"Content-Type": "text/html"}, RUISHU),
        (202, {}, RUISHU),
        (200, {}, RUISHU),
        (521, {"Set-Cookie": "__jsluid_h=abc"}, JIASULE),
        (412, {}, UNKNOWN_CHALLENGE),
        (202, {}, UNKNOWN_CHALLENGE),
        (200, {}, SAFEDOG),
        (200, {"Server": "Safedog"}, SAFEDOG),
        (200, {}, CHUANGYU),
        (200, {}, CAPTCHA),
        (403, {}, "<html><body>Forbidden</body></html>"),
        (429, {}, ""),
    ],
)
def test_blocked(status: int, headers: dict[str, str], text: str) -> None:
    assert classify_fetch(status, headers, text) == "blocked"


@pytest.mark.parametrize("text", [SOFT_404_WITH_MENUS, SOFT_404_PLAIN, DELETED])
def test_soft_404(text: str) -> None:
    assert classify_fetch(200, {"Content-Type": "text/html; charset=utf-8"}, text) == "soft_404"


@pytest.mark.parametrize(
    ("status", "text"),
    [
        # a real report that merely mentions the words is content
        (
            200,
            _report(
                "<p>本年度网站部署安全狗防护，拦截攻击1200次；页面不存在错误（404）已修复。</p>"
            ),
        ),
        (200, _report("<p>在线申请须输入验证码。</p><p>您的访问被拦截等提示已优化。</p>")),
        # a real page of a Ruishu-protected site still carries its $_ts script
        (200, _report("", head=RUISHU.split("<head>")[1].split("</head>")[0])),
        # a list page: little prose, many links, a login box saying 验证码
        (200, LIST_PAGE),
        # HTTP errors speak for themselves
        (404, SOFT_404_WITH_MENUS),
        (500, "<html><body>Internal Server Error</body></html>"),
        # an old frameset home page has no text but is not an error
        (
            200,
            "<html><frameset cols='20%,80%'><frame src='l.htm'><frame src='r.htm'>"
            "</frameset></html>",
        ),
    ],
)
def test_real_content_is_not_flagged(status: int, text: str) -> None:
    assert classify_fetch(status, {}, text) is None


def test_files_behind_a_waf_cdn_are_content() -> None:
    """The spider passes "" for attachment bodies; a WAF/CDN header alone blocks nothing."""
    headers = {"Server": "yunjiasu-nginx", "X-Safe-Firewall": "zhuji.360.cn 1.0.9.47 F1W1"}
    assert classify_fetch(200, headers, "") is None
    assert classify_fetch(200, headers, _report("")) is None


def test_soft_404_only_on_success() -> None:
    assert classify_fetch(301, {}, SOFT_404_PLAIN) is None


def test_own_text_skips_links_and_scripts() -> None:
    title, body, links = own_text(
        "<html><head><title> 标题 </title><script>var a='脚本';</script></head>"
        "<body><a href='/'>链接</a>正文<span>尾</span><style>.x{}</style></body></html>"
    )
    assert (title, body, links) == ("标题", "正文尾", 1)
    assert own_text("") == ("", "", 0)
