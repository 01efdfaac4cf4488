"""The Spark engine in local mode gives exactly the local engine's findings and errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from claimwatch.scan.engine import run_local
from support_warc import make_pages, write_warc
from support_paths import CORPORA

pytestmark = pytest.mark.spark

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    from claimwatch.scan.spark_job import spark_session

    session = spark_session("local[2]", app_name="claimwatch-tests")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("spark-warcs")
    paths = []
    for i, opts in enumerate([{}, {"content_encoding": "gzip", "chunked": True}, {"gzip": False, "revisits": True}]):
        path = str(d / (f"{i}.warc.gz" if opts.get("gzip", True) else f"{i}.warc"))
        write_warc(path, make_pages(24, seed=300 + i, host=f"s{i}.example"), **opts)
        paths.append(path)
    broken = d / "broken.warc.gz"
    data = Path(paths[0]).read_bytes()
    broken.write_bytes(data[: len(data) - 300])  # truncated last member
    paths.append(str(broken))
    if CORPORA.is_dir():
        paths += [str(CORPORA / "warcio/example-trunc.warc"), str(CORPORA / "pywb/bad.arc"), str(CORPORA / "README.md")]
    return paths


def _local(paths, prefilter=True):
    return [(r.path, r.findings, r.errors, r.records) for r in run_local(paths, prefilter=prefilter)]


def test_spark_equals_local_engine(spark, inputs):
    from claimwatch.scan.spark_job import scan_paths

    remote = [(r.path, r.findings, r.errors, r.records) for r in scan_paths(spark, inputs)]
    local = _local(inputs)
    assert remote == local
    assert sum(len(f) for _, f, _, _ in local) > 0
    assert any(e for _, _, e, _ in local)  # the broken inputs are reported the same way


def test_spark_full_path_equals_prefiltered(spark, inputs):
    from claimwatch.scan.spark_job import scan_paths

    # batches of 3 files: several Spark jobs, results still in input order
    full = [(r.path, r.findings) for r in scan_paths(spark, inputs, prefilter=False, batch=3)]
    assert full == [(p, f) for p, f, _, _ in _local(inputs)]


@needs_java
def test_spark_submit_style_script_writes_parquet(inputs, tmp_path):
    """The job file run as a script (what spark-submit does) writes the local engine's rows."""
    out = tmp_path / "spark.parquet"
    script = Path(__file__).resolve().parent.parent / "src" / "claimwatch" / "scan" / "spark_job.py"
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    r = subprocess.run([sys.executable, str(script), "--master", "local[2]", "--out", str(out), *inputs],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1, r.stderr[-3000:]  # the broken inputs are read errors
    assert "Traceback" not in r.stderr
    expected = [f for _, f, _, _ in _local(inputs) for f in f]
    assert pq.read_table(out).to_pylist() == expected
    errors = [line for line in r.stderr.splitlines() if line.startswith("claimwatch: read error: ")]
    assert len(errors) == sum(len(e) for _, _, e, _ in _local(inputs))
    assert json.loads(json.dumps(expected)) == expected
