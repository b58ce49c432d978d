"""Recognise answers that are not content: anti-bot challenges, WAF blocks, captchas, soft 404s.

Such pages must be recorded as fetches with a reason and never parsed as reports. The markers
(words like 安全狗 or 页面不存在) can also occur inside a real report, so a word only counts
when the page has almost no text of its own. "Own text" is visible text outside links: a
soft-404 page often keeps the whole site menu around its one line, while a report has paragraphs
of prose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import lxml.html

from gxcrawl.extract.sanitize import MARKUP_UNPARSABLE, drop_trees, parse_document
from gxcrawl.textutil import collapse_whitespace, remove_whitespace
from gxcrawl.vocab import Disposition

__all__ = ["BLOCKED", "SOFT_404", "classify_fetch", "own_text"]

BLOCKED = Disposition.BLOCKED
SOFT_404 = Disposition.SOFT_404

THIN_CHARS = 300  # own text below this is "no real content"
FEW_LINKS = 10  # a message page, not a list or a menu
TITLE_THIN_CHARS = 1000  # a tell-tale <title> still needs a page that is not a long article
HEADLINE_CHARS = 200  # a block message sits at the top of a bare page
CHALLENGE_STATUSES = (412, 202, 521)  # what challenge scripts answer with (瑞数 412, 加速乐 521)
REFUSAL_STATUSES = (403, 429)  # forbidden, too many requests: a refusal whatever the body says
METHOD_NOT_ALLOWED = 405  # some WAFs answer 405 with a one-line block page

# JavaScript challenges: Ruishu/瑞数 ($_ts), 加速乐 (__jsl_clearance), Aliyun (acw_sc__v2),
# Cloudflare (challenge-platform, cf_chl), Tencent EdgeOne, generic cookie-then-reload scripts.
_CHALLENGE = re.compile(
    r"\$_ts\s*=|\$_ts\[|window\[['\"]\$_ts['\"]\]|__jsl_clearance|jsl_clearance_s|acw_sc__v2|"
    r"challenge-platform|cf_chl_|_cf_chl_opt|EO_Bot|edgeone-challenge|__tst_status|"
    r"wzws_cid|WZWS_CONFIRM|yunsuo_session_verify|security_verify_data",
    re.I,
)
_WAF = re.compile(
    r"您的访问被拦截|访问被拦截|访问已被拦截|请求已被拦截|请求被拦截|已被网站管理员设置拦截|安全狗|"
    r"创宇云防御|创宇盾|知道创宇|加速乐|云防御|网站防火墙|Web应用防火墙|WEB应用防火墙|访问被拒绝|"
    r"拒绝访问|访问受限|非法请求|不合法参数|疑似黑客攻击|攻击行为|请求被阻断|云锁|安全拦截|"
    r"Access Denied|Request blocked|Forbidden|Web Application Firewall",
    re.I,
)
_CAPTCHA = re.compile(
    r"验证码|人机验证|安全验证|滑动验证|拖动滑块|请完成验证|点击验证|captcha", re.I
)
_SOFT_404 = re.compile(
    r"页面不存在|您访问的页面不存在|您所访问的页面不存在|页面未找到|找不到(?:该|您要访问的)?页面|"
    r"页面已(?:被)?删除|(?:该|此)?信息已(?:被)?删除|已被删除|不存在或已(?:被)?删除|文章不存在|"
    r"信息不存在|内容不存在|稿件已撤销|已撤稿|页面走丢|Not Found|page not found|(?<!\d)404(?!\d)",
    re.I,
)
_COOKIE_SET = re.compile(r"document\.cookie\s*=")
_RELOAD = re.compile(r"location\.(?:reload|replace|href\s*=)|window\.location\s*=")
# The phrases alone (not a bare "404"), trusted even on a page that keeps its menus.
_SOFT_404_PHRASE = re.compile(
    r"页面不存在|您访问的页面不存在|您所访问的页面不存在|页面未找到|找不到(?:该|您要访问的)?页面|"
    r"页面已(?:被)?删除|(?:该|此)信息已(?:被)?删除|不存在或已(?:被)?删除|文章不存在|稿件已撤销|页面走丢"
)
_BLOCK_HEADERS = re.compile(r"safedog|yunsuo|jiasule|yunjiasu|wzws|WAF", re.I)


def _tree(text: str) -> lxml.html.HtmlElement | None:
    if not text or not text.strip():
        return None
    # Sanitised first: a control character beside a link would make `drop_tree` raise.
    root, flags = parse_document(text)
    return None if MARKUP_UNPARSABLE in flags else root


def own_text(text: str) -> tuple[str, str, int]:
    """(title, visible text outside links/scripts/styles with all whitespace removed, number of
    links)."""
    root = _tree(text)
    if root is None:
        return "", "", 0
    title = collapse_whitespace(" ".join(root.xpath("//title//text()")))
    links = len(root.xpath("//a[@href]"))
    # drop_tree keeps the tail text that followed each element; batched, as one at a time is
    # quadratic on thousands of links with text between them.
    drop_trees(root.xpath("//script | //style | //noscript | //template | //a | //title"))
    return title, remove_whitespace(root.text_content()), links


def classify_fetch(status: int, headers: Mapping[str, str], text: str) -> Disposition | None:
    """BLOCKED, SOFT_404 or None (real content, or an HTTP error the status already says).

    blocked: JavaScript challenges (often HTTP 412/202, also 200/521), WAF block pages, captcha
    walls, HTTP 403/429 refusals. soft_404: a 2xx page that says the page does not exist.
    """
    title, body, links = own_text(text)
    thin = len(body) < THIN_CHARS
    bare = thin and links < FEW_LINKS  # nothing but a message (no menu, no list)
    headline = f"{title} {body[:HEADLINE_CHARS]}"
    header_text = " ".join(f"{k}:{v}" for k, v in headers.items())

    if _CHALLENGE.search(text) and thin:
        return BLOCKED
    if status in CHALLENGE_STATUSES and thin and "<script" in text.lower():
        return BLOCKED  # an unknown challenge script in place of content
    if bare and _COOKIE_SET.search(text) and _RELOAD.search(text):
        return BLOCKED  # set a clearance cookie, then load the page again (加速乐 and kin)
    if status in REFUSAL_STATUSES or (status == METHOD_NOT_ALLOWED and thin):
        return BLOCKED
    if thin and (_WAF.search(title) or _CAPTCHA.search(title)):
        return BLOCKED
    if bare and (_WAF.search(headline) or _CAPTCHA.search(headline)):
        return BLOCKED
    if bare and _BLOCK_HEADERS.search(header_text) and _WAF.search(text):
        return BLOCKED
    if 200 <= status < 300:
        if len(body) < TITLE_THIN_CHARS and _SOFT_404.search(title):
            return SOFT_404
        if thin and _SOFT_404_PHRASE.search(body):
            return SOFT_404
        if bare and _SOFT_404.search(body):
            return SOFT_404
    return None
