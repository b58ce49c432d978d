"""A small held-out "department portal" store for the workbench tests, built through the real
path: report pages are recorded with the store's `record_fetch` and parsed by `extract_and_save`
(the crawl's own extraction), never inserted as finished rows.

The pages follow the national template (the demo fixture page is the skeleton: its tables and
headings); their prose is generated from a seeded word list so that different reports share
almost no wording, and the designed cases below are what the tests assert, written by hand:

- 江城市教育局 (a department): 2020 on time, 2021 copied from 2020 (years and figures changed)
  and 10 days late, 2022 own prose without part 五 and with a broken carry-over, 2023 without a
  publish date.
- 江城市人民政府 (the 本级政府): 2021 published 15 March, on time (its deadline is 31 March).
- 江城市卫生健康委员会: 2018 published 20 March 2019 (the 2007 rule: 31 March) and 2019 missing.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from gxcrawl.ingest import SnapshotInput, extract_and_save, hints_from_row
from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database
from gxcrawl.store.state import FetchRecord

ROOT = Path(__file__).resolve().parents[1]
SKELETON = (
    ROOT / "fixtures" / "portals" / "demo" / "xxgk" / "ndbg" / "202101" / "t20210106_1001.html"
)
SKELETON_AGENCY = "鲤城区人民政府临江街道办事处"
BASE = "http://jc.example.gov.cn/xxgk/ndbg/"
PORTAL = {
    "id": "jc-dept",
    "name": "江城市人民政府",
    "level": "city",
    "province": "江南",
    "region_code": "990100",
    "platform": "generic",
}
EDU = "江城市教育局"
GOV = "江城市人民政府"
HEALTH = "江城市卫生健康委员会"

_WORD_TEXT = (
    "统筹推进 政务服务 数据共享 基层治理 便民热线 窗口建设 审批改革 营商环境 "
    "清单管理 公开目录 解读回应 舆情处置 平台整合 业务培训 考核评议 监督检查 "
    "档案管理 保密审查 网站集约 移动端口 办事指南 民生资金 重大项目 招标采购 "
    "安全生产 教育公平 医疗保障 养老服务 就业创业 住房保障 生态环境 乡村振兴 "
    "城市更新 交通出行 文旅融合 科技创新 人才引进 财政预算 决算报告 审计整改 "
    "应急管理 防汛抗旱 食品安全 市场监管 社会救助 残疾人事业 退役军人 "
    "民族宗教 老旧小区 校园安全 课后服务 学位供给 师资队伍 职业教育 "
)
_WORDS = tuple(_WORD_TEXT.split())


def prose(seed: int, sentences: int = 14) -> list[str]:
    """Paragraphs of generated Chinese prose: the same seed, the same words."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 14))]
        n = rng.randint(2, 99)
        out.append(f"{''.join(words[:4])}共{n}件，{'、'.join(words[4:])}。")
    return out


@dataclass
class Page:
    agency: str
    year: int
    publish: dt.date | None
    paragraphs: list[str]
    carried_over: int = 0  # 二、上年结转 (every applicant column 0, the total this)
    carry_forward: int = 0  # 四、结转下年度
    drop_part_five: bool = False
    path: str = ""
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return BASE + self.path


def _skeleton() -> str:
    return SKELETON.read_bytes().decode("gbk")


def _row(html: str, label: str, total: int) -> str:
    """Set the application-table row `label` to zeros with `total` in 自然人 and 总计."""
    cells = f"<td>{total}</td>" + "<td>0</td>" * 5 + f"<td>{total}</td>"
    return re.sub(
        rf"(<td colspan=\"3\">{re.escape(label)}</td>)(?:<td>[^<]*</td>){{7}}",
        lambda m: m.group(1) + cells,
        html,
    )


def render(page: Page) -> bytes:
    html = _skeleton().replace("charset=gbk", "charset=utf-8")
    html = html.replace("2020年", f"{page.year}年").replace(SKELETON_AGENCY, page.agency)
    date = page.publish.isoformat() if page.publish else ""
    html = html.replace("2021-01-06 00:00:00", date)
    signoff = (
        f"{page.publish.year}年{page.publish.month}月{page.publish.day}日" if page.publish else ""
    )
    html = html.replace("2021年1月6日", signoff)
    # The skeleton's own prose goes; the page's paragraphs stand in part 一 and 五.
    html = re.sub(r'<p style="text-indent:2em">(?!<strong>).*?</p>\n', "", html)
    half = len(page.paragraphs) // 2
    first = "".join(f'<p style="text-indent:2em">{p}</p>\n' for p in page.paragraphs[:half])
    rest = "".join(f'<p style="text-indent:2em">{p}</p>\n' for p in page.paragraphs[half:])
    html = re.sub(r"(<strong>一、总体情况</strong></p>\n)", lambda m: m.group(1) + first, html)
    five = r'<p style="text-indent:2em"><strong>五、存在的主要问题及改进情况</strong></p>\n'
    html = re.sub(f"({five})", "" if page.drop_part_five else (lambda m: m.group(1) + rest), html)
    if page.drop_part_five:
        html = html.replace("<strong>六、其他需要报告的事项</strong></p>\n",
                            "<strong>六、其他需要报告的事项</strong></p>\n" + rest)  # fmt: skip
    html = _row(html, "二、上年结转政府信息公开申请数量", page.carried_over)
    html = _row(html, "四、结转下年度继续办理", page.carry_forward)
    return html.encode("utf-8")


def department_pages() -> list[Page]:
    base_2020 = prose(2020)
    # Copied: the same words with new figures, and one phrase of the first paragraph rewritten.
    copied = [re.sub(r"共\d+件", "共7件", p) for p in base_2020]
    copied[0] = "今年以来我局认真贯彻落实" + copied[0][8:]
    pages = [
        Page(EDU, 2020, dt.date(2021, 1, 20), base_2020, carry_forward=3),
        Page(EDU, 2021, dt.date(2022, 2, 10), copied, carried_over=3, carry_forward=2),
        Page(EDU, 2022, dt.date(2023, 1, 30), prose(2022), carried_over=5, drop_part_five=True),
        Page(EDU, 2023, None, prose(2023)),
        Page(GOV, 2021, dt.date(2022, 3, 15), prose(7021)),
        Page(HEALTH, 2018, dt.date(2019, 3, 20), prose(9018)),
    ]
    for i, page in enumerate(pages):
        page.path = f"t{page.year}_{i:03d}.html"
    return pages


def record_page(db: Database, url: str, body: bytes, *, when: dt.datetime | None = None) -> int:
    """Store one fetched report page and parse it as the crawl does; the snapshot id."""
    rec = FetchRecord(
        url=url,
        kind="report",
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
        body=body,
        portal_id=PORTAL["id"],
        fetched_at=when or dt.datetime(2024, 5, 1, 8, 0, 0),
        body_size=len(body),
    )
    with db.transaction() as session:
        stored = repo.record_fetch(session, rec, run_id=None, recheck_after=None)
        assert stored.snapshot_id is not None
        snap = repo.snapshot_by_id(session, stored.snapshot_id)
        assert snap is not None
        hints = hints_from_row(repo.stored_portals(session)[PORTAL["id"]])
        extract_and_save(session, SnapshotInput.of(snap), hints)
        return stored.snapshot_id


def build_store(db_url: str) -> tuple[Database, list[Page]]:
    db = Database(db_url)
    with db.transaction() as session:
        repo.upsert_portals(session, [PORTAL])
    pages = department_pages()
    for page in pages:
        record_page(db, page.url, render(page))
    return db, pages
