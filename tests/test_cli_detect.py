"""`claimwatch detect` end to end: the installed command (subprocess) and Typer's CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimwatch.extract import extract
from support_extract import EN_CLAIM, ZH_SIMPLIFIED, ZH_TRADITIONAL, cjk_pdf_bytes, pdf_bytes

CLAIMWATCH = Path(sys.executable).parent / "claimwatch"

# Invented claims, one per document; each must be found through the whole path.
DOCS = {
    "attrs.txt": (f"人脸属性结构化：输出性别、年龄段、口罩及民族（汉族/维族/其他），准确率≥90%。\n", "utf-8", "ethnicity"),
    "skin.html": ("<html><head><title>產品</title></head><body><p>臉部特徵分析：支援人種膚色判別（黃種人、白人、黑人）。</p>"
                  "<script>var x = 1;</script></body></html>", "big5", "race"),
    "page.htm": ("<html><head><meta charset=\"gbk\"></head><body><div>支持分析人员目标的种族属性（如维族、汉族），"
                 "识别准确率不低于90%。</div></body></html>", "gbk", "ethnicity"),
    "nation.h": ("typedef enum tagEM_NATION_TYPE {\n  EM_NATION_TYPE_UNKNOWN,\n  EM_NATION_TYPE_UYGUR,   // 维族(新疆)\n"
                 "  EM_NATION_TYPE_HAN,     // 汉族\n} EM_NATION_TYPE;  /* 人脸属性：民族 */\n", "gb18030", "ethnicity"),
    "classroom.c": ("/* 智慧课堂实时识别学生高兴、悲伤、愤怒等7种情绪，生成专注度评分推送班主任。 */\nint main(void) { return 0; }\n",
                    "utf-8", "emotion"),
    "README.md": ("# Face SDK\n\n`FaceAttr.ethnicity` enum {UNKNOWN, HAN, UYGHUR, OTHER}; requires the minority analysis licence.\n",
                  "utf-8", "ethnicity"),
    "resp.json": (json.dumps({"code": 0, "faces": [{"is_minority": 1, "minority_type": "维族/藏族/回族"}],
                              "doc": "返回字段 is_minority（是否少数民族，0/1）；minority_type：维族/藏族/回族。"}), "ascii", "ethnicity"),
}


def write_docs(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, (text, encoding, _) in DOCS.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(text.encode(encoding))
    paths["brochure.pdf"] = tmp_path / "brochure.pdf"
    paths["brochure.pdf"].write_bytes(cjk_pdf_bytes([("STSong-Light", "人脸属性：输出性别、年龄段及民族（汉族/维族/其他）。")]))
    return paths


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLAIMWATCH), "detect", *args], input=stdin, capture_output=True, cwd=cwd, timeout=120)


def jsonl(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines()]


def assert_offsets(records: list[dict], path_of) -> None:
    """For every finding, the extracted text at [start:end] is exactly the match."""
    texts: dict[str, str] = {}
    for r in records:
        doc = r["document"]
        if doc not in texts:
            texts[doc] = extract(path_of(doc), filename=None if doc == "-" else doc).text
        assert texts[doc][r["start"]:r["end"]] == r["match"], r
        assert r["excerpt"], r


def test_every_format_through_the_installed_command(tmp_path):
    paths = write_docs(tmp_path)
    proc = run("--format", "jsonl", *[str(p) for p in paths.values()])
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    records = jsonl(proc.stdout)
    keys = ["document", "record_id", "category", "rule", "match", "start", "end", "excerpt", "gloss", "score"]
    for r in records:
        assert list(r) == keys
        assert r["record_id"] is None and isinstance(r["score"], float) and 0 <= r["score"] <= 1
    found = {(Path(r["document"]).name, r["category"]) for r in records}
    for name, (_, _, category) in DOCS.items():
        assert (name, category) in found, (name, category, proc.stdout.decode())
    assert ("brochure.pdf", "ethnicity") in found
    assert_offsets(records, lambda doc: Path(doc).read_bytes())
    # Non-ASCII is written as is (ensure_ascii=False), so an investigator can grep the output.
    assert "维族".encode() in proc.stdout or "維族".encode() in proc.stdout


def test_stdin(tmp_path):
    data = ZH_TRADITIONAL.encode("big5")
    proc = run("--format", "jsonl", "-", stdin=data)
    assert proc.returncode == 0, proc.stderr
    records = jsonl(proc.stdout)
    assert records and {r["document"] for r in records} == {"-"}
    assert "race" in {r["category"] for r in records}
    assert_offsets(records, lambda doc: data)


def test_text_format(tmp_path):
    path = tmp_path / "claim.txt"
    path.write_text(ZH_SIMPLIFIED + "\n", encoding="gbk")
    clean = tmp_path / "clean.txt"
    clean.write_text("弘扬中华民族传统美德，共建文明社区。\n", encoding="utf-8")
    proc = run(str(path), str(clean))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    header = next(line for line in out.splitlines() if line.startswith(f"{path}: ethnicity ("))
    assert " score " in header
    assert "\n  match:   " in out and "\n  gloss:   " in out and "\n  excerpt: " in out
    assert f"{clean}: no findings" in out


def test_bad_paths_each_get_one_line_and_the_rest_is_processed(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(EN_CLAIM, encoding="utf-8")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(os.urandom(4096))
    image = tmp_path / "photo.html"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnothing here\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    missing = tmp_path / "missing.txt"
    proc = run("--format", "jsonl", str(missing), str(folder), str(junk), str(good), str(image), str(broken))
    assert proc.returncode == 2
    err = proc.stderr.decode().splitlines()
    assert "Traceback" not in proc.stderr.decode()
    assert err == [
        f"claimwatch: error: {missing}: no such file",
        f"claimwatch: error: {folder}: is a directory (give files; `claimwatch scan` walks directories of web archives)",
        f"claimwatch: error: {junk}: not a text document: binary data (control bytes)",
        f"claimwatch: error: {image}: not a text document: PNG image",
        err[4],
    ]
    assert err[4].startswith(f"claimwatch: error: {broken}: PDF unreadable: ")
    records = jsonl(proc.stdout)
    assert records and {r["document"] for r in records} == {str(good)}


def test_empty_file_is_success_without_findings(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    proc = run("--format", "jsonl", str(empty))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_truncation_note_on_stderr(tmp_path):
    pdf = tmp_path / "huge.pdf"
    pdf.write_bytes(pdf_bytes(["Real-time Uyghur warnings for every camera."] * 2500))
    proc = run("--format", "jsonl", str(pdf))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().splitlines() == [
        f"claimwatch: note: {pdf}: PDF has 2500 pages; read the first 2000 (page limit)"
    ]


def test_200_mb_sparse_file_is_read_only_up_to_the_limit(tmp_path):
    # 200 MB of zeros (a sparse file, so the test costs no disk): refused as binary, quickly.
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(200 * 1000 * 1000)
    proc = run(str(big))
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"claimwatch: error: {big}: not a text document: binary data (control bytes)\n"


def test_200_mb_text_file_is_cut_at_64_mib(tmp_path):
    big = tmp_path / "big.txt"
    filler = ("Quarterly product update: installation guide and warranty terms for the NVR series.\n" * 4000).encode()
    with open(big, "wb") as f:
        f.write(ZH_SIMPLIFIED.encode() + b"\n")
        while f.tell() < 200 * 1000 * 1000:
            f.write(filler)
    try:
        proc = run("--format", "jsonl", str(big))
    finally:
        big.unlink()  # pytest keeps recent tmp dirs; do not leave 200 MB behind
    assert proc.returncode == 0, proc.stderr
    notes = proc.stderr.decode().splitlines()
    assert notes == [
        f"claimwatch: note: {big}: input larger than 64 MiB; read the first 64 MiB (max_input_bytes)",
        f"claimwatch: note: {big}: text cut at 16000000 characters (max_chars)",
    ]
    assert "ethnicity" in {r["category"] for r in jsonl(proc.stdout)}


def test_no_arguments_is_usage_error():
    proc = run()
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr


# --- CliRunner (in-process) -------------------------------------------------------------------

@pytest.fixture()
def cli():
    from claimwatch.cli import _register, app

    _register()
    return lambda *args, **kw: CliRunner().invoke(app, ["detect", *args], **kw)


def test_cli_runner_jsonl_and_offsets(tmp_path, cli):
    paths = write_docs(tmp_path)
    result = cli("--format", "jsonl", str(paths["page.htm"]), str(paths["resp.json"]))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(Path(r["document"]).name, r["category"]) for r in records} >= {("page.htm", "ethnicity"), ("resp.json", "ethnicity")}
    assert_offsets(records, lambda doc: Path(doc).read_bytes())


def test_cli_runner_stdin(cli):
    result = cli("--format", "jsonl", "-", input=ZH_SIMPLIFIED.encode("gbk"))
    assert result.exit_code == 0, result.output
    assert "ethnicity" in {json.loads(line)["category"] for line in result.stdout.splitlines()}


def test_cli_runner_missing_path(tmp_path, cli):
    result = cli(str(tmp_path / "nope.md"))
    assert result.exit_code == 2
    assert result.stderr == f"claimwatch: error: {tmp_path / 'nope.md'}: no such file\n"


# --- web archives (delegated to claimwatch.scan.file_findings) ----------------------------------

def write_warc(path: Path, body: bytes, content_type: str) -> None:
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=path.name.endswith(".gz"))
        headers = StatusAndHeaders("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://vendor.example/product", "response", payload=io.BytesIO(body), http_headers=headers))


@pytest.mark.parametrize("name", ["capture.warc", "capture.warc.gz"])
def test_web_archive_findings_name_the_record(tmp_path, name):
    path = tmp_path / name
    write_warc(path, f"<html><body><p>{ZH_SIMPLIFIED}</p></body></html>".encode("gbk"), "text/html; charset=gbk")
    other = tmp_path / "note.txt"
    other.write_text(EN_CLAIM, encoding="utf-8")
    proc = run("--format", "jsonl", str(path), str(other))
    assert proc.returncode == 0, proc.stderr
    records = jsonl(proc.stdout)
    from_warc = [r for r in records if r["document"] == "https://vendor.example/product"]
    assert from_warc and all(r["record_id"].startswith("<urn:uuid:") for r in from_warc)
    assert "ethnicity" in {r["category"] for r in from_warc}
    assert any(r["document"] == str(other) for r in records)
