#!/usr/bin/env python3
"""Throughput of detect() (and of the raw-bytes prefilter) on a generated mixed corpus.

    python bench/detect_speed.py [--mb 20] [--doc-kb 20]

Documents of about --doc-kb KB are generated from invented filler text in English and Chinese
(Simplified and Traditional); a share of them has claims or near-miss words spliced in.  Prints MB/s
(UTF-8 bytes of input per second) for: clean documents, documents with hits, and the mix; plus the
prefilter on the encoded bytes and the one-off compile time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

FILLER = [
    "Our platform helps cities manage traffic lights and parking spaces efficiently. ",
    "The camera supports H.265 encoding, PoE power and an IP67 housing. ",
    "We provide 24/7 support and firmware updates for five years. ",
    "智慧城市平台整合交通、能源与公共服务数据，提升管理效率。",
    "本产品支持H.265编码、PoE供电，防护等级IP67。",
    "我們提供全天候技術支援與五年韌體更新服務。",
    "物流园区采用智能道闸与车牌识别，实现无人值守。",
    "Quarterly revenue grew 12% on strong demand for storage products. ",
]
NEAR_MISS = [
    "弘扬中华民族传统美德。", "民族风刺绣披肩热卖。", "Fixed a race condition in the decoder. ",
    "Minority shareholders approved the plan. ", "信用卡积分兑换礼品。", "Driver fatigue alerts. ",
]
CLAIMS = [
    "人脸属性结构化：输出性别、年龄及民族（汉族/维族/其他）。",
    "Face attributes include skin tone (yellow / white / black). ",
    "警情字典：涉宗教类、邪教类、上访类，可配置自动报警。",
    "智慧课堂实时识别学生高兴、悲伤、愤怒等情绪。",
    "Live facial recognition matches crowds against the police watchlist in real time. ",
]


def make_doc(rng: random.Random, kb: int, kind: str) -> str:
    parts: list[str] = []
    size = 0
    while size < kb * 1024:
        if kind == "hits" and rng.random() < 0.05:
            s = rng.choice(CLAIMS)
        elif rng.random() < 0.03:
            s = rng.choice(NEAR_MISS)
        else:
            s = rng.choice(FILLER)
        if rng.random() < 0.1:
            s += "\n"
        parts.append(s)
        size += len(s.encode())
    return "".join(parts)


def rate(fn, docs, nbytes) -> tuple[float, float]:
    t = time.perf_counter()
    n = 0
    for d in docs:
        n += len(fn(d)) if fn.__name__ == "detect" else int(fn(d))
    dt = time.perf_counter() - t
    return nbytes / dt / 1e6, n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20.0, help="corpus size per kind (MB)")
    ap.add_argument("--doc-kb", type=int, default=20)
    a = ap.parse_args(argv)

    t = time.perf_counter()
    from claimwatch.detect import detect
    from claimwatch.detect.prefilter import may_contain_claim

    detect("warm-up")
    t_detect = time.perf_counter() - t
    t = time.perf_counter()
    may_contain_claim(b"warm-up")
    t_pre = time.perf_counter() - t
    print(f"compile: detector {t_detect:.2f}s, prefilter {t_pre:.2f}s (once per process)")

    rng = random.Random(1)
    ndocs = max(1, int(a.mb * 1024 / a.doc_kb))
    corpora = {kind: [make_doc(rng, a.doc_kb, kind) for _ in range(ndocs)] for kind in ("clean", "hits")}
    corpora["mixed"] = corpora["clean"][: ndocs // 2] + corpora["hits"][: ndocs // 2]
    for kind, docs in corpora.items():
        nbytes = sum(len(d.encode()) for d in docs)
        mbs, nf = rate(detect, docs, nbytes)
        print(f"detect()  {kind:6} {nbytes / 1e6:7.1f} MB in {len(docs):5} docs: {mbs:8.1f} MB/s  ({nf} findings)")
    for kind, docs in corpora.items():
        raw = [d.encode("utf-8") for d in docs]
        nbytes = sum(map(len, raw))
        mbs, n = rate(may_contain_claim, raw, nbytes)
        print(f"prefilter {kind:6} {nbytes / 1e6:7.1f} MB in {len(raw):5} docs: {mbs:8.1f} MB/s  ({n} maybe)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
