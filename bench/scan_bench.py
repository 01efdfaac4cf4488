"""Throughput of `claimwatch scan` against decompression baselines and a naive scanner.

    .venv/bin/python bench/scan_bench.py [--mb 320] [--files 8] [--naive-mb 8]

Generates (once, seeded, reused) a Common-Crawl-like corpus in bench/_data/: several .warc.gz files,
one gzip member per record, request + response + metadata per page, pages in English UTF-8,
Chinese UTF-8, GBK and Big5 (about 45 KB of HTML each; 80% English, 12% Simplified, 8% Traditional), with invented claims planted in some pages
and hard negatives in others. Then prints MB/s of *uncompressed WARC* for: zcat, the fastest Python
gzip, FastWARC iteration alone, `claimwatch scan --workers 1/2`, and a naive scanner (warcio +
BeautifulSoup + one regex per lexicon term, measured on a subset and extrapolated), plus the recall
of the planted claims. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic WARC generator lives with the tests

from support_warc import CLAIMS, NEGATIVES, html_page, make_pages, write_warc  # noqa: E402

DATA = ROOT / "bench" / "_data"
CACHE = DATA / "hscache"  # the bench's own Hyperscan cache, so "cold" and "warm" are what they say
SEED = 20260101
PAGE_BYTES = 45_000
# Share of English / Simplified / Traditional Chinese pages. Chinese is over-represented compared
# with Common Crawl (a few percent) because it is the costly case: common words such as 积分/评分
# are weak lexicon terms, so many Chinese pages pass the prefilter and pay for extract + detect.
LANG_MIX = (0.8, 0.12, 0.08)
PLANT_EVERY = 400  # one page in 400 carries a claim, another one a hard negative (still far denser than a real crawl)


# ------------------------------------------------------------------ corpus generation

def _cjk_pool(codec: str, lo: int, hi: int, rng: random.Random, n: int) -> list[str]:
    chars = []
    for code in range(lo, hi):
        try:
            ch = code.to_bytes(2, "big").decode(codec)
        except UnicodeDecodeError:
            continue
        if len(ch) == 1 and ch.isprintable():
            chars.append(ch)
    return [rng.choice(chars) for _ in range(n)]


def _paragraph_pools(rng: random.Random) -> dict[str, list[str]]:
    syll = ["ka", "lo", "mi", "ten", "ra", "vo", "sen", "tri", "pa", "dor", "el", "qu", "an", "is", "ber", "shi", "mon"]
    vocab = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 4))) for _ in range(6000)]
    vocab += ["the", "and", "of", "camera", "video", "storage", "network", "platform", "cloud", "device", "data"]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    en = []
    for _ in range(1500):
        words = rng.choices(vocab, weights, k=rng.randint(40, 120))
        en.append(" ".join(words).capitalize() + ".")
    hans_chars = _cjk_pool("gb2312", 0xB0A1, 0xD7FA, rng, 200_000)
    hant_chars = _cjk_pool("big5", 0xA440, 0xC67F, rng, 200_000)

    def cjk(pool):
        out = []
        for _ in range(1500):
            k = rng.randint(60, 200)
            start = rng.randrange(len(pool) - k)
            out.append("".join(pool[start:start + k]) + "。")
        return out

    return {"en": en, "zh-Hans": cjk(hans_chars), "zh-Hant": cjk(hant_chars)}


BOILER = (
    '<nav><ul><li><a href="/">Home</a></li><li><a href="/products">Products</a></li>'
    '<li><a href="/about">About</a></li></ul></nav>\n'
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
    "gtag('js',new Date());gtag('config','G-XXXX');</script>\n"
    "<style>body{font-family:sans-serif;margin:0}nav ul{display:flex;gap:1em}</style>\n"
)


def generate(files: int, total_mb: int) -> dict:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rng = random.Random(SEED)
    pools = _paragraph_pools(rng)
    DATA.mkdir(parents=True, exist_ok=True)
    per_file = total_mb * 1_000_000 // files
    planted: dict[str, int] = {}
    negatives: dict[str, int] = {}
    page_no = 0
    for fi in range(files):
        path = DATA / f"cc-like-{fi:02d}.warc.gz"
        written = 0
        with open(path, "wb") as fh:
            w = WARCWriter(fh, gzip=True)
            w.write_record(w.create_warcinfo_record(path.name, {"software": "claimwatch scan_bench", "seed": str(SEED)}))
            while written < per_file:
                lang = rng.choices(["en", "zh-Hans", "zh-Hant"], LANG_MIX)[0]
                charset = {"en": "utf-8", "zh-Hans": rng.choice(["utf-8", "gbk"]), "zh-Hant": rng.choice(["utf-8", "big5"])}[lang]
                paras, size = [], 0
                while size < PAGE_BYTES:
                    p = rng.choice(pools[lang])
                    paras.append(p)
                    size += len(p.encode(charset))
                uri = f"https://site{rng.randrange(5000)}.example/page/{page_no}"
                kind = page_no % PLANT_EVERY
                if kind in (0, 1):
                    pool = [c for c in (CLAIMS if kind == 0 else NEGATIVES) if c.lang == lang] or None
                    if pool:
                        idx = rng.randrange(len(pool))
                        paras.insert(rng.randrange(len(paras)), pool[idx].text)
                        (planted if kind == 0 else negatives)[uri] = (CLAIMS if kind == 0 else NEGATIVES).index(pool[idx])
                body = html_page(f"Page {page_no}", [BOILER] + paras, charset)
                http = StatusAndHeaders("200 OK", [("Content-Type", f"text/html; charset={charset}"),
                                                   ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
                req_http = StatusAndHeaders(f"GET /page/{page_no} HTTP/1.1", [("Host", uri.split("/")[2]),
                                            ("User-Agent", "CCBot/2.0")], is_http_request=True)
                w.write_record(w.create_warc_record(uri, "request", payload=io.BytesIO(b""), http_headers=req_http))
                resp = w.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http)
                w.write_record(resp)
                meta = f"fetchTimeMs: {rng.randint(50, 900)}\r\ncharset-detected: {charset}\r\nlanguages-cld2: {lang}\r\n"
                w.write_record(w.create_warc_record(uri, "metadata", payload=io.BytesIO(meta.encode()),
                                                    warc_content_type="application/warc-fields"))
                written += len(body) + 1200
                page_no += 1
    meta = {"seed": SEED, "files": files, "total_mb": total_mb, "plant_every": PLANT_EVERY,
            "lang_mix": list(LANG_MIX), "pages": page_no,
            "planted": planted, "negatives": negatives}
    (DATA / "meta.json").write_text(json.dumps(meta))
    return meta


def corpus(files: int, total_mb: int) -> tuple[list[str], dict]:
    meta_path = DATA / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        wanted = {"files": files, "total_mb": total_mb, "seed": SEED, "plant_every": PLANT_EVERY,
                  "lang_mix": list(LANG_MIX)}
        if all(meta.get(k) == v for k, v in wanted.items()):
            return sorted(str(p) for p in DATA.glob("cc-like-*.warc.gz")), meta
    for p in DATA.glob("cc-like-*.warc.gz"):
        p.unlink()
    t0 = time.perf_counter()
    meta = generate(files, total_mb)
    print(f"generated {meta['pages']} pages in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return sorted(str(p) for p in DATA.glob("cc-like-*.warc.gz")), meta


# ------------------------------------------------------------------ measurements

REPEAT = 3  # every timing is the median of this many runs (the machine is shared and noisy)
PAIRED = 5  # rounds of zcat right before scan --workers 1, for a ratio the machine's drift affects less


def timed(fn, repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def uncompressed_size(paths: list[str]) -> int:
    import zlib

    total = 0
    for p in paths:
        with open(p, "rb") as fh:
            data = fh.read()
        while data:
            d = zlib.decompressobj(31)
            total += len(d.decompress(data))
            data = d.unused_data
    return total


def run_zcat(paths: list[str]) -> None:
    zcat = shutil.which("zcat") or "zcat"
    with open(os.devnull, "wb") as null:
        for p in paths:
            subprocess.run([zcat, p], stdout=null, check=True)


def fastest_python_gzip() -> tuple[str, object]:
    try:
        from isal import igzip

        return "isal.igzip", igzip.open
    except ImportError:
        from zlib_ng import gzip_ng

        return "zlib_ng.gzip_ng", gzip_ng.open


def run_pygzip(opener, paths: list[str]) -> None:
    for p in paths:
        with opener(p, "rb") as fh:
            while fh.read(1 << 20):
                pass


def run_members(paths: list[str]) -> None:
    """What the inflate helper does to a file, ring aside: find, prove and inflate its gzip members
    one by one with libdeflate (scan/members.py) into a 1 MiB buffer."""
    import mmap

    from claimwatch.scan.members import MemberReader

    buf = memoryview(bytearray(1 << 20))
    for p in paths:
        with open(p, "rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        reader = MemberReader(mm, len(mm))
        while reader.readinto(buf):
            del reader.starts[:]
        assert reader.complete, reader.broken
        reader.close()
        mm.close()


def run_fastwarc(paths: list[str]) -> int:
    from fastwarc.warc import ArchiveIterator

    n = 0
    for p in paths:
        for rec in ArchiveIterator(p, parse_http=False, fsspec_args=False):
            rec.reader.read()
            n += 1
    return n


def run_scan(paths: list[str], workers: int, out: str, cache_dir: Path | None = None) -> None:
    exe = str(Path(sys.executable).parent / "claimwatch")
    cmd = [exe, "scan", "--workers", str(workers), "--out", out, *paths]
    env = {**os.environ, "CLAIMWATCH_CACHE_DIR": str(cache_dir or CACHE)}
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"scan failed ({proc.returncode}): {proc.stderr[-2000:]}")


def lexicon_terms() -> list[str]:
    """Every category term of the lexicon (the naive scanner's patterns, one regex each)."""
    from claimwatch.lexicon import load_lexicon

    lex = load_lexicon()
    return sorted({t.text for c in lex.categories.values() for t in c.terms})


def run_naive(path: str, limit_bytes: int, terms: list[str]) -> tuple[int, float]:
    """warcio + BeautifulSoup get_text + one compiled regex per term, until `limit_bytes` of WARC."""
    from bs4 import BeautifulSoup
    from warcio.archiveiterator import ArchiveIterator

    regexes = [re.compile(re.escape(t), re.IGNORECASE) for t in terms]
    done = 0
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            body = rec.content_stream().read()
            done += len(body) + 1200  # record block + WARC/HTTP headers, like the generator's estimate
            if rec.rec_type == "response":
                text = BeautifulSoup(body, "html.parser").get_text(" ")
                for rx in regexes:
                    rx.search(text)
            if done >= limit_bytes:
                break
    return done, time.perf_counter() - t0


def recall(out_jsonl: str, meta: dict) -> tuple[float, int, int]:
    found_docs = set()
    with open(out_jsonl, encoding="utf-8") as fh:
        for line in fh:
            found_docs.add(json.loads(line)["document"])
    planted = set(meta["planted"])
    negatives = set(meta["negatives"])
    hit = len(planted & found_docs)
    return hit / max(len(planted), 1), hit, len(negatives & found_docs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=320, help="uncompressed corpus size (MB)")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--naive-mb", type=int, default=8, help="subset measured for the naive scanner")
    args = ap.parse_args()

    paths, meta = corpus(args.files, args.mb)
    size = uncompressed_size(paths)
    stored = sum(os.path.getsize(p) for p in paths)
    mb = size / 1e6
    rows = []

    def row(name, seconds, note=""):
        rows.append((name, mb / seconds, seconds, note))

    row("zcat (GNU gzip) > /dev/null", timed(lambda: run_zcat(paths)))
    gz_name, opener = fastest_python_gzip()
    row(f"Python {gz_name} read", timed(lambda: run_pygzip(opener, paths)))
    row("libdeflate, member by member (the inflate helper's reader)", timed(lambda: run_members(paths)))
    n_records = [0]
    row("FastWARC iteration (read every record)", timed(lambda: n_records.__setitem__(0, run_fastwarc(paths))))
    out1 = str(DATA / "findings-w1.jsonl")
    out2 = str(DATA / "findings-w2.jsonl")
    tiny = str(DATA / "tiny.warc.gz")
    write_warc(tiny, make_pages(1))
    # Start-up with an empty Hyperscan cache (first run after install or a lexicon change) ...
    shutil.rmtree(CACHE, ignore_errors=True)
    cold = timed(lambda: run_scan([tiny], 1, str(DATA / "tiny.jsonl")), repeat=1)
    print(f"start-up with an empty Hyperscan cache (compiles and fills it): {cold:.1f}s", flush=True)
    # ... and with the cache filled, which is what every later run (and the rows below) gets.
    startup = timed(lambda: run_scan([tiny], 1, str(DATA / "tiny.jsonl")))
    t1 = timed(lambda: run_scan(paths, 1, out1))
    row("claimwatch scan --workers 1", t1, f"wall time, incl. {startup:.1f}s start-up (imports, lexicon, Hyperscan databases from the cache)")
    row("claimwatch scan --workers 1, start-up excluded", t1 - startup, "steady-state rate")
    # The machine's speed drifts by a quarter within minutes, so rows timed minutes apart can
    # disagree more than the methods do: pair each scan with a zcat run right before it.
    ratios = []
    for _ in range(PAIRED):
        z = timed(lambda: run_zcat(paths), repeat=1)
        ratios.append(z / timed(lambda: run_scan(paths, 1, out1), repeat=1))
    tiny2 = str(DATA / "tiny2.warc.gz")
    write_warc(tiny2, make_pages(1, seed=8))
    startup2 = timed(lambda: run_scan([tiny, tiny2], 2, str(DATA / "tiny2.jsonl")))
    t2 = timed(lambda: run_scan(paths, 2, out2))
    row("claimwatch scan --workers 2", t2, f"wall time, incl. {startup2:.1f}s start-up (parent warms up, 2 forked workers inherit)")
    row("claimwatch scan --workers 2, start-up excluded", t2 - startup2, "steady-state rate")
    # A longer run (the corpus listed three times, 3x the bytes) shows how start-up amortises.
    listing = DATA / "three-times.paths"
    listing.write_text("\n".join(os.path.abspath(p) for p in paths * 3) + "\n", encoding="utf-8")
    t3 = timed(lambda: run_scan([f"@{listing}"], 1, str(DATA / "three-times.jsonl")), repeat=1)
    rows.append(("claimwatch scan --workers 1, corpus x3 in one run", 3 * mb / t3, t3,
                 "wall time, one start-up for 3x the bytes"))
    terms = lexicon_terms()
    done, secs = run_naive(paths[0], args.naive_mb * 1_000_000, terms)
    rows.append(("naive: warcio + BeautifulSoup + regex/term", done / 1e6 / secs, secs * size / done,
                 f"measured on {done / 1e6:.0f} MB, extrapolated; {len(terms)} terms"))
    rec, hit, neg_hits = recall(out1, meta)
    same = Path(out1).read_bytes() == Path(out2).read_bytes()

    print(f"corpus: {len(paths)} files, {meta['pages']} pages, {n_records[0]} records, "
          f"{mb:.0f} MB uncompressed WARC ({stored / 1e6:.0f} MB stored); cpus: {os.cpu_count()}")
    print("| method | MB/s (uncompressed WARC) | seconds | note |")
    print("| --- | ---: | ---: | --- |")
    for name, rate, secs, note in rows:
        print(f"| {name} | {rate:.1f} | {secs:.2f} | {note} |")
    rate = {name: r for name, r, _, _ in rows}
    zcat_rate = rows[0][1]
    w1 = rate["claimwatch scan --workers 1"]
    w1s = rate["claimwatch scan --workers 1, start-up excluded"]
    w2s = rate["claimwatch scan --workers 2, start-up excluded"]
    naive = rows[-1][1]
    print(f"scan --workers 1 vs zcat: {w1 / zcat_rate:.2f}x wall, {w1s / zcat_rate:.2f}x steady; "
          f"vs naive: {w1 / naive:.0f}x; --workers 2 speed-up: {rate['claimwatch scan --workers 2'] / w1:.2f}x wall, "
          f"{w2s / w1s:.2f}x steady")
    print(f"scan --workers 1 vs zcat, {PAIRED} paired rounds (zcat then scan, wall): median "
          f"{statistics.median(ratios):.2f}x, range {min(ratios):.2f}x-{max(ratios):.2f}x")
    print(f"recall of planted claims: {rec:.3f} ({hit}/{len(meta['planted'])} pages); "
          f"hard-negative pages with a finding: {neg_hits}/{len(meta['negatives'])}; "
          f"workers 1 and 2 output identical: {same}")


if __name__ == "__main__":
    main()
