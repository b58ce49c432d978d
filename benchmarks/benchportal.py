"""Generate a large, deterministic fixture portal for `make bench` (issue 5, item 8).

The portal is a plain generic site: one 年报 column of list pages joined by 下一页 links, report
pages about the size of the seed reports (prose plus the 2019-format application table) and
ordinary documents in between. Same `seed`, same bytes: bench runs stay comparable.

    python -m benchmarks.benchportal OUTDIR --pages 2000
"""

from __future__ import annotations

import argparse
import html
import json
import math
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

PER_PAGE = 20
COLUMN = "/xxgk/ndbg/"
AGENCIES = [
    "{city}人民政府",
    "{city}人民政府办公室",
    "{city}教育局",
    "{city}卫生健康局",
    "{city}财政局",
    "{city}民政局",
    "{city}司法局",
    "{city}自然资源局",
    "{city}城关街道办事处",
    "{city}新华镇人民政府",
]
CITIES = ["宁远县", "安平县", "清河县", "东阳区", "南山区", "长乐市", "平和县", "永安市"]
SENTENCES = [
    "根据《中华人民共和国政府信息公开条例》规定，特编制本年度政府信息公开工作年度报告。",
    "本年度，我单位认真贯彻落实上级关于政务公开工作的部署要求，坚持以公开为常态、不公开为例外。",
    "进一步健全主动公开信息工作制度，提高依申请公开工作质量，规范政策文件发布及政策解读发布。",
    "通过政府网站信息公开专栏、微信公众号、线下政务公开栏等渠道主动公开各类政府信息。",
    "严格落实信息发布三级审查制度，在公文拟稿时同步确定公开属性，与文件同时审签。",
    "加强政务公开队伍建设，组织开展业务培训，提升工作人员业务能力和服务水平。",
    "对照上级考核标准，开展自查，查漏补缺，不断完善政府信息公开工作机制。",
    "存在的主要问题：政策解读形式较为单一，基层政务公开标准化规范化工作仍需深化。",
    "改进措施：推进重要政策公开全链条管理，推动政务公开平台互融互通，提升公开质效。",
    "本报告中所列数据的统计期限自1月1日起至12月31日止。",
]
DOC_TITLES = [
    "关于开展{y}年度安全生产大检查的通知",
    "{a}召开{y}年工作部署会",
    "{a}{y}年重点项目建设推进情况",
    "关于公布{y}年行政许可事项清单的公告",
    "{a}举办{y}年业务培训班",
    "关于{y}年城乡居民医疗保险参保缴费的公告",
]
ROWS = [
    "一、本年新收政府信息公开申请数量",
    "二、上年结转政府信息公开申请数量",
    "（一）予以公开",
    "（二）部分公开",
    "（三）不予公开",
    "（四）无法提供",
    "（五）不予处理",
    "（六）其他处理",
    "（七）总计",
    "四、结转下年度继续办理",
]

E = html.escape


def _page(title: str, inner: str) -> str:
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{E(title)}</title></head><body>"
        '<div class="position">当前位置：<a href="/">首页</a> &gt; '
        f'<a href="{COLUMN}">政府信息公开年报</a></div>'
        f'<div class="main">{inner}</div>'
        '<div class="footer">主办单位：基准测试门户　网站标识码：0000000001　'
        "<p>分享到：微信 微博 QQ空间 [打印本页] [关闭窗口]</p></div></body></html>\n"
    )


def _report_body(rng: random.Random, title: str) -> str:
    paras = [f"<p>{E(rng.choice(SENTENCES))}</p>" for _ in range(45)]
    head = (
        "<tr><td>申请人情况</td><td>自然人</td><td>商业企业</td><td>科研机构</td>"
        "<td>社会公益组织</td><td>法律服务机构</td><td>其他</td><td>总计</td></tr>"
    )
    rows = []
    for label in ROWS:
        vals = [rng.randint(0, 40) for _ in range(6)]
        cells = "".join(f"<td>{v}</td>" for v in [*vals, sum(vals)])
        rows.append(f"<tr><td>{E(label)}</td>{cells}</tr>")
    table = f'<table border="1" class="gk-table">{head}{"".join(rows)}</table>'
    half = len(paras) // 2
    return (
        f'<h1>{E(title)}</h1><div id="zoom">'
        + "".join(paras[:half])
        + "<p>三、收到和处理政府信息公开申请情况</p>"
        + table
        + "".join(paras[half:])
        + "</div>"
    )


def generate(
    root: Path, pages: int = 2000, seed: int = 0, report_share: float = 0.1
) -> dict[str, Any]:
    """Write the portal into `root` (replaced if present); return counts and bytes.

    `report_share` of the detail pages are annual reports, the rest other documents (which the
    spider's link policy never fetches).
    """
    if pages < 3:
        raise ValueError("pages must be at least 3")
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(seed)
    n_lists = math.ceil((pages - 1) / (PER_PAGE + 1))
    n_details = pages - 1 - n_lists
    files: dict[str, str] = {}
    reports: list[dict[str, Any]] = []
    items: list[tuple[str, str, str]] = []  # (title, path, date)
    for i in range(n_details):
        year = 2015 + i % 9
        date = f"{year + 1}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        path = f"{COLUMN}{date[:4]}{date[5:7]}/t{date.replace('-', '')}_{100000 + i}.html"
        city = rng.choice(CITIES)
        agency = rng.choice(AGENCIES).format(city=city)
        if int((i + 1) * report_share) > int(i * report_share):
            title = f"{agency}{year}年政府信息公开工作年度报告"
            files[path] = _page(title, _report_body(rng, title))
            reports.append({"path": path, "title": title, "year": year, "agency": agency})
        else:
            title = rng.choice(DOC_TITLES).format(y=year, a=agency) + f"（{i}）"
            body = "".join(f"<p>{E(rng.choice(SENTENCES))}</p>" for _ in range(4))
            files[path] = _page(title, f'<h1>{E(title)}</h1><div id="zoom">{body}</div>')
        items.append((title, path, date))
    list_pages = []
    for p in range(n_lists):
        url = COLUMN if p == 0 else f"{COLUMN}index_{p}.html"
        list_pages.append(url)
        chunk = items[p * PER_PAGE : (p + 1) * PER_PAGE]
        lis = "".join(
            f'<li><a href="{path}" title="{E(t)}">{E(t)}</a><span>{d}</span></li>'
            for t, path, d in chunk
        )
        nav = [f"第{p + 1}页/共{n_lists}页"]
        if p > 0:
            prev = COLUMN if p == 1 else f"{COLUMN}index_{p - 1}.html"
            nav.insert(0, f'<a href="{prev}">上一页</a>')
        if p < n_lists - 1:
            nav.append(f'<a href="{COLUMN}index_{p + 1}.html">下一页</a>')
        inner = f'<ul class="list">{lis}</ul><div class="page">{" ".join(nav)}</div>'
        files[url + "index.html" if url.endswith("/") else url] = _page("政府信息公开年报", inner)
    files["/index.html"] = _page("基准测试门户", f'<a href="{COLUMN}">政府信息公开年报</a>')

    total_bytes = 0
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        target.write_bytes(data)
        total_bytes += len(data)
    (root / "portal.toml").write_text(
        "[[portal]]\n"
        'id = "fixture-bench"\nname = "基准测试门户"\nlevel = "fixture"\nprovince = "测试"\n'
        'region_code = "000000"\nhomepage = "/"\n'
        f'start_urls = ["{COLUMN}"]\n'
        'platform = "generic"\nallowed_domains = []\nconfidence = "fixture"\nenabled = true\n',
        encoding="utf-8",
    )
    expected = {"reports": reports, "list_pages": list_pages, "pages": len(files)}
    (root / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return {
        "pages": len(files),
        "list_pages": n_lists,
        "reports": len(reports),
        "documents": n_details - len(reports),
        "bytes": total_bytes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.benchportal")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-share", type=float, default=0.1, help="share of reports")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.outdir, pages=args.pages, seed=args.seed, report_share=args.report_share)
    took = time.perf_counter() - started
    print(
        f"generated {counts['pages']} pages ({counts['list_pages']} list, {counts['reports']} "
        f"reports, {counts['documents']} other) {counts['bytes']} bytes in {took:.2f}s "
        f"into {args.outdir}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
