"""`make fuzz`: run generated and mutated pages through extraction; report crashes, hangs, time.

    python benchmarks/fuzz.py [--count 100000] [--seed 1] [--jobs 2] [--hang 2.0]
    python benchmarks/fuzz.py --scaling     # time each hostile class at growing sizes

Seeds are the fixture pages (fixtures/pages, fixtures/portals/**) and the real pages in
../shared/realpages when present. Each input is one seed page put through one or two mutations
(byte flips, truncation, control characters, tag deletion/duplication, deep nesting, huge
style/table/line, spam terms with long letter runs, broken openers …) or a page generated from
scratch. Inputs are numbered and deterministic: `--only N` replays input N.

A crash is any exception out of the entry point; its input and a shrunk repro are written to
data/fuzz-crashes/ (git-ignored). A hang is a page slower than `--hang` seconds; a page still
running after `HARD_TIMEOUT` is stopped and counted as a hang. Exit status 1 on any crash or hang.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import random
import re
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from gxcrawl.extract.process import RawDocument

ROOT = Path(__file__).resolve().parents[1]
# The one function every input goes through ("module:function", called as fn(RawDocument)):
# the extraction entry point the crawl, the commands and the gate share.
ENTRY_POINT = os.environ.get("GXCRAWL_FUZZ_ENTRY", "gxcrawl.extract.process:extract_document")
URL = "http://www.example.gov.cn/zwgk/ndbg/2023/t20240115_1.html"
CRASH_DIR = ROOT / "data" / "fuzz-crashes"

DEFAULT_COUNT = 100_000
HANG_SECONDS = 2.0  # acceptance: the worst page must stay under this
HARD_TIMEOUT = 30  # seconds after which a stuck page is interrupted (and counted as a hang)
MAX_SEED_BYTES = 400_000  # larger seed files are truncated: mutations, not size, are the point
MAX_REPROS = 20  # crash repros saved per run (one per kind of error)
SHRINK_TRIES = 200  # attempts to shrink a crashing input before saving it
PROGRESS_EVERY = 10_000  # inputs between progress lines
CHUNK = 64  # inputs per task sent to a worker: amortises inter-process overhead

SPAM_TERMS = ("博彩", "bet365", "葡京", "百家乐", "澳门", "真人娱乐", "亚洲官网")
CONTROL = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32))] + ["\ud800", "\ufffe", "\uffff"]
HTML_TAG = re.compile(rb"<[^<>]{0,200}>")


# --- seeds -----------------------------------------------------------------------------------


def shared_dir() -> Path | None:
    """../shared beside the checkout (worktree or main), else $GXCRAWL_SHARED, else /work/shared."""
    env = os.environ.get("GXCRAWL_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared", ROOT.parent.parent / "shared", Path("/work/shared")]
    return next((p for p in candidates if (p / "realpages").is_dir()), None)


def seed_pages() -> list[bytes]:
    files = sorted((ROOT / "fixtures" / "pages").glob("*.html"))
    files += sorted((ROOT / "fixtures" / "portals").rglob("*.html"))
    shared = shared_dir()
    if shared is not None:
        files += sorted((shared / "realpages").glob("*.html"))
    return [f.read_bytes()[:MAX_SEED_BYTES] for f in files]


# --- generated hostile pages -----------------------------------------------------------------


def _page(body: str, head: str = "") -> str:
    title = "某县人民政府2023年政府信息公开工作年度报告"
    return (
        f"<html><head><title>{title}</title>{head}</head>"
        f"<body><div class=content>{body}</div></body></html>"
    )


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789") for _ in range(n))


def gen_spam_run(rng: random.Random) -> str:
    term = rng.choice(SPAM_TERMS)
    run = _letters(rng, rng.choice((24, 61, 200, 5000)))
    return _page(f"<p>一、总体情况 {term} {run}。</p><p>{run} {term}{run}</p>")


def gen_style(rng: random.Random) -> str:
    n = rng.choice((10_000, 100_000, 400_000))
    css = rng.choice(("a", ".x ", "display:none;", "height:0;", "{"))
    return _page("<p>正文</p>", head=f"<style>{css * (n // len(css))}</style>")


def gen_hidden(rng: random.Random) -> str:
    n = rng.choice((1000, 4000, 10_000))
    span = rng.choice(("<span style='display:none'>博彩x</span>", "<i class=h>x</i>"))
    return _page("<p>正文</p>" + span * n, head="<style>.h{display:none}</style>")


def gen_table(rng: random.Random) -> str:
    rows, cols = rng.choice(((20_000, 3), (200, 200), (2000, 30)))
    row = "<tr>" + "".join(f"<td>{c}</td>" for c in range(cols)) + "</tr>"
    return _page("<table><tr><td>项目</td><td>本年新收</td></tr>" + row * rows + "</table>")


def gen_deep(rng: random.Random) -> str:
    n = rng.choice((254, 300, 1000, 20_000))
    tag = rng.choice(("div", "b", "font", "span", "table><tr><td"))
    close = "" if rng.random() < 0.5 else f"</{tag.split('>')[0]}>" * n
    return _page(f"<{tag}>" * n + "<p>正文内容在最深处。</p>" + close + "<p>之后的段落</p>")


def gen_long_line(rng: random.Random) -> str:
    n = rng.choice((100_000, 1_000_000))
    unit = rng.choice(("字", "a", "分享到 ", "来源：", " | ", "。"))
    return _page("<p>" + unit * (n // len(unit)) + "</p>")


def gen_links(rng: random.Random) -> str:
    n = rng.choice((1000, 10_000))
    depth = rng.choice((1, 50, 200))
    links = "".join(f"<a href='http://x{i}.com/'>{rng.choice(SPAM_TERMS)}{i}</a>" for i in range(n))
    return _page("<div>" * depth + links + "</div>" * depth)


def gen_title(rng: random.Random) -> str:
    n = rng.choice((2000, 20_000))
    unit = rng.choice((".", "…", "【图解】", "|", "2023年", "政府信息公开"))
    title = "2023年政府信息公开工作年度报告" + unit * (n // len(unit)) + rng.choice(("", "x"))
    return f"<html><head><title>{title}</title></head><body><p>正文</p></body></html>"


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "title": gen_title,
    "spam_run": gen_spam_run,
    "style": gen_style,
    "hidden": gen_hidden,
    "table": gen_table,
    "deep": gen_deep,
    "long_line": gen_long_line,
    "links": gen_links,
}


# --- mutations of a seed page ----------------------------------------------------------------


def _at(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def mut_flip(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 10, 100))):
        if buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf)


def mut_truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: _at(rng, data)]


def mut_control(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    for _ in range(rng.choice((1, 20, 500))):
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(CONTROL) + text[i:]
    return text.encode("utf-8", "surrogatepass")


def mut_tags(rng: random.Random, data: bytes) -> bytes:
    """Delete or duplicate some tags (unbalances the markup)."""
    tags = list(HTML_TAG.finditer(data))
    if not tags:
        return data
    out, pos = bytearray(), 0
    chosen = sorted(
        rng.sample(tags, min(len(tags), rng.choice((1, 10, 200)))), key=lambda m: m.start()
    )
    for m in chosen:
        out += data[pos : m.start()]
        out += m.group(0) * rng.choice((0, 2, 50))
        pos = m.end()
    return bytes(out + data[pos:])


def mut_insert(rng: random.Random, data: bytes) -> bytes:
    """Insert a hostile snippet somewhere in the page."""
    snippets = (
        "<!--", "<!", "<![CDATA[", "<script>", "<style>", "</html>", "<table>", "<td>",
        "</div>" * 50,
        "<div>" * 300, "<b>" * 400, f"{rng.choice(SPAM_TERMS)} {_letters(rng, 61)}",
        "<a href=#>x</a>\x0b", "\x00" * 10, "<?xml version='1.0' encoding='gbk'?>",
        "<meta charset=utf-16>", "&#0;&#xD800;&#xFFFF;&#1114112;",
        "<style>" + "a" * 50_000 + "</style>",
        "<p style='display:none'>" * 100, "<div class=content>", "<!DOCTYPE", "\ufeff",
    )  # fmt: skip
    i = _at(rng, data)
    return data[:i] + rng.choice(snippets).encode("utf-8", "surrogatepass") + data[i:]


def mut_prefix(rng: random.Random, data: bytes) -> bytes:
    prefixes = (
        b"<!",
        b"<!-- ",
        b"<!x",
        b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>",
        b"\x00",
        b"</p>",
    )
    return rng.choice(prefixes) + data


def mut_splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    return data[: _at(rng, data)] + other[_at(rng, other) :]


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": mut_flip,
    "truncate": mut_truncate,
    "control": mut_control,
    "tags": mut_tags,
    "insert": mut_insert,
    "prefix": mut_prefix,
}
GENERATED_SHARE = 0.03  # generated pages are large and slow-ish: a few percent of inputs
RANDOM_SHARE = 0.02  # pure random bytes


def make_input(index: int, seed: int, seeds: list[bytes]) -> tuple[str, bytes]:
    """Input number `index`: (what was done, bytes). Deterministic in (index, seed)."""
    rng = random.Random(seed * 1_000_003 + index)
    roll = rng.random()
    if roll < GENERATED_SHARE:
        name = rng.choice(sorted(GENERATORS))
        return f"gen:{name}", GENERATORS[name](rng).encode("utf-8")
    if roll < GENERATED_SHARE + RANDOM_SHARE:
        return "random", rng.randbytes(rng.choice((0, 1, 10, 1000, 100_000)))
    data = rng.choice(seeds)
    ops = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        if rng.random() < 0.1:
            ops.append("splice")
            data = mut_splice(rng, data, rng.choice(seeds))
            continue
        name = rng.choice(sorted(MUTATIONS))
        ops.append(name)
        data = MUTATIONS[name](rng, data)
    return "mut:" + "+".join(ops), data


# --- running ---------------------------------------------------------------------------------


def entry_point() -> Callable[..., Any]:
    module, _, name = ENTRY_POINT.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn


@dataclass
class Outcome:
    index: int
    kind: str
    size: int
    seconds: float
    error: str | None  # "ExcType: message" for a crash, "timeout" for a stopped page


class _HardTimeout(BaseException):
    """Raised by the alarm; a BaseException so extraction code cannot swallow it."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _HardTimeout


def run_one(fn: Callable[..., Any], body: bytes) -> tuple[float, str | None]:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HARD_TIMEOUT)
    start = time.perf_counter()
    try:
        fn(RawDocument(body, URL))
        error = None
    except _HardTimeout:
        error = "timeout"
    except Exception as exc:
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.alarm(0)
    return time.perf_counter() - start, error


_SEEDS: list[bytes] = []


def _init_worker() -> None:
    _SEEDS[:] = seed_pages()


def run_chunk(task: tuple[int, int, int]) -> list[Outcome]:
    start, stop, seed = task
    fn = entry_point()
    out = []
    for index in range(start, stop):
        kind, body = make_input(index, seed, _SEEDS)
        seconds, error = run_one(fn, body)
        out.append(Outcome(index, kind, len(body), seconds, error))
    return out


def run_all(count: int, seed: int, jobs: int) -> Iterator[Outcome]:
    tasks = [(i, min(i + CHUNK, count), seed) for i in range(0, count, CHUNK)]
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_init_worker) as pool:
        for chunk in pool.imap_unordered(run_chunk, tasks):
            yield from chunk


# --- crash repros ----------------------------------------------------------------------------


def _same_crash(fn: Callable[..., Any], body: bytes, error: str) -> bool:
    _, got = run_one(fn, body)
    return got is not None and got.split(":")[0] == error.split(":")[0]


def shrink(fn: Callable[..., Any], body: bytes, error: str) -> bytes:
    """Delta-debugging light: drop halves, quarters, … while the same exception type recurs."""
    tries, size = 0, len(body) // 2
    while size >= 1 and tries < SHRINK_TRIES:
        pos, changed = 0, False
        while pos < len(body) and tries < SHRINK_TRIES:
            candidate = body[:pos] + body[pos + size :]
            tries += 1
            if _same_crash(fn, candidate, error):
                body, changed = candidate, True
            else:
                pos += size
        if not changed:
            size //= 2
    return body


def _one_per_error(crashes: list[Outcome]) -> list[Outcome]:
    """The first crash of each kind of error (type and message start), in input order."""
    seen: dict[str, Outcome] = {}
    for o in sorted(crashes, key=lambda o: o.index):
        seen.setdefault((o.error or "")[:40], o)
    return list(seen.values())


def save_crash(outcome: Outcome, seed: int) -> Path:
    CRASH_DIR.mkdir(parents=True, exist_ok=True)
    _init_worker()
    _, body = make_input(outcome.index, seed, _SEEDS)
    fn = entry_point()
    stem = CRASH_DIR / f"crash-{seed}-{outcome.index}"
    stem.with_suffix(".html").write_bytes(body)
    small = shrink(fn, body, outcome.error or "")
    stem.with_suffix(".min.html").write_bytes(small)
    try:
        fn(small, url=URL)
    except Exception:
        stem.with_suffix(".txt").write_text(traceback.format_exc(), encoding="utf-8")
    return stem


# --- report ----------------------------------------------------------------------------------


def report(
    outcomes: list[Outcome], hang: float, elapsed: float
) -> tuple[list[Outcome], list[Outcome]]:
    crashes = [o for o in outcomes if o.error and o.error != "timeout"]
    hangs = [o for o in outcomes if o.error == "timeout" or o.seconds > hang]
    times = sorted(o.seconds for o in outcomes)
    print(f"inputs: {len(outcomes)} in {elapsed:.0f} s")
    if times:
        pct = {p: times[min(len(times) - 1, int(len(times) * p / 100))] for p in (50, 99, 99.9)}
        print("time per page: " + ", ".join(f"p{p} {t * 1000:.1f} ms" for p, t in pct.items()))
        worst = max(outcomes, key=lambda o: o.seconds)
        print(
            f"worst page: {worst.seconds:.3f} s (#{worst.index} {worst.kind}, {worst.size} bytes)"
        )
    slow = Counter(o.kind.split("+")[0] for o in outcomes if o.seconds > hang / 4)
    if slow:
        print(f"pages over {hang / 4:.2f} s by kind: {dict(slow)}")
    print(f"crashes: {len(crashes)}")
    for kind, n in Counter(o.error for o in crashes).most_common(10):
        print(f"  {n} × {kind}")
    print(f"hangs (> {hang} s): {len(hangs)}")
    if hangs:
        print(f"  by kind: {dict(Counter(o.kind.split('+')[0] for o in hangs))}")
    for o in sorted(hangs, key=lambda o: -o.seconds)[:10]:
        print(f"  #{o.index} {o.kind} {o.size} bytes {o.seconds:.2f} s {o.error or ''}")
    return crashes, hangs


# --- scaling ---------------------------------------------------------------------------------

SCALING: dict[str, Callable[[int], str]] = {
    "spam letters": lambda n: _page("<p>博彩 " + "a" * n + "。</p>"),
    "style without braces": lambda n: _page("<p>x</p>", head=f"<style>{'a' * n}</style>"),
    "hidden siblings": lambda n: _page("<p>x</p>" + "<span style='display:none'>x</span>" * n),
    "table rows": lambda n: _page("<table>" + "<tr><td>项目</td><td>1</td></tr>" * n + "</table>"),
    "table columns": lambda n: _page("<table><tr>" + "<td>1</td>" * n + "</tr>" * 20 + "</table>"),
    "nested divs": lambda n: _page("<div>" * n + "<p>正文</p>" + "</div>" * n),
    "unclosed inline": lambda n: _page("<b>" * n + "<p>正文</p>"),
    "long line": lambda n: _page("<p>" + "字" * n + "</p>"),
    "title of dots": lambda n: f"<title>年度报告{'.' * n}x</title>",
    "text under deep divs": lambda n: "<div>层文字较多的内容" * 200 + "<p>正文内容</p>" * (n // 8),
    "links in deep divs": lambda n: _page("<div>" * 200 + "<a href='http://x.com/'>葡京</a>" * n),
}


def scaling(sizes: tuple[int, ...] = (1_000, 4_000, 16_000, 64_000)) -> None:
    """Time each hostile class at growing sizes: linear work grows ×4 per step."""
    fn = entry_point()
    for name, make in SCALING.items():
        cells = []
        for n in sizes:
            body = make(n).encode("utf-8")
            seconds, error = run_one(fn, body)
            cells.append(f"{n:>6}: {seconds:7.3f} s" + (f" {error}" if error else ""))
        print(f"{name:22s} " + " | ".join(cells), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--hang", type=float, default=HANG_SECONDS)
    parser.add_argument("--only", type=int, help="replay one input by number and print the result")
    parser.add_argument("--scaling", action="store_true", help="time hostile classes by size")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.scaling:
        scaling()
        return 0
    if args.only is not None:
        kind, body = make_input(args.only, args.seed, seed_pages())
        seconds, error = run_one(entry_point(), body)
        print(f"#{args.only} {kind} {len(body)} bytes: {seconds:.3f} s {error or 'ok'}")
        return 1 if error else 0
    start = time.perf_counter()
    outcomes: list[Outcome] = []
    for outcome in run_all(args.count, args.seed, args.jobs):
        outcomes.append(outcome)
        if len(outcomes) % PROGRESS_EVERY == 0:
            bad = sum(1 for o in outcomes if o.error or o.seconds > args.hang)
            print(
                f"  {len(outcomes)} inputs, {bad} bad, {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    crashes, hangs = report(outcomes, args.hang, time.perf_counter() - start)
    for o in _one_per_error(crashes)[:MAX_REPROS]:
        print(f"  repro: {save_crash(o, args.seed)}.min.html  ({o.kind}: {o.error})")
    return 1 if crashes or hangs else 0


if __name__ == "__main__":
    sys.exit(main())
