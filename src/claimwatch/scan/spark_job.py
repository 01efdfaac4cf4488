"""The Spark engine: file paths distributed over executors, each running the local engine's `scan_file`.

Use it through `claimwatch scan --engine spark [--master URL]`, or submit this file directly:

    PYSPARK_PYTHON=.venv/bin/python spark-submit --master local[2] \\
        src/claimwatch/scan/spark_job.py --out findings.parquet crawl/*.warc.gz

Executors must have claimwatch installed (same Python environment) and see the input paths
(a shared or local file system). Findings come back to the driver a batch of files at a time (one
Spark job per batch, a few files per core) and are written there, in input order: the driver holds
one batch's findings, not the whole run's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

if __name__ == "__main__":
    # Run as a script (spark-submit): do not let this directory's modules shadow top-level ones.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

from claimwatch.scan.worker import FileResult, scan_file  # noqa: E402


def _scan_one(item: tuple[int, str], prefilter: bool, blobs: dict[str, bytes] | None = None) -> tuple:
    index, path = item
    if blobs:
        # The driver's compiled Hyperscan databases: executors load instead of compiling.
        from claimwatch.detect import hsdb

        hsdb.preload(blobs)
    # Spark runs one task per core: no core is left for an inflate helper process.
    r = scan_file(path, prefilter=prefilter, parallel=False)
    # Plain tuples travel between JVM and Python workers without needing our classes pickled by value.
    return (index, r.path, r.findings, r.errors, r.records, r.candidates, r.size)


_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n
"""


def _quiet_log4j() -> str:
    """Path of a log4j2 config that lets only errors through (written once per machine/user)."""
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"claimwatch-log4j2-{os.getuid()}.properties")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(_LOG4J)
        os.replace(tmp, path)
    return path


def spark_session(master: str | None = None, app_name: str = "claimwatch-scan"):
    """A SparkSession tuned for short local jobs (no UI, loopback driver, few shuffle partitions)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.python.worker.reuse", "true")
    )
    if master:
        builder = builder.master(master)
    # Spark's own INFO/WARN chatter would drown our one-line-per-error stderr contract.
    java_opts = f"-Dlog4j.configurationFile=file:{_quiet_log4j()}"
    if (master or "local").startswith("local"):
        # Local mode: the JVM only schedules (Python does the work), so favour JVM start-up time
        # (C1 JIT only, serial GC, non-blocking entropy) over peak JIT performance.
        java_opts += " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.security.egd=file:/dev/./urandom"
    builder = builder.config("spark.driver.extraJavaOptions", java_opts)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def scan_paths(spark, paths: list[str], *, prefilter: bool = True, batch: int | None = None) -> Iterator[FileResult]:
    """Scan `paths` on the cluster, one partition (task) per file; results in input order.

    Files go out in batches of `batch` (default: twice the cluster's cores) so that results stream
    back to the driver instead of piling up there."""
    if not paths:
        return
    from claimwatch.scan import hscache

    sc = spark.sparkContext
    shared = sc.broadcast(hscache.warm_up(prefilter=prefilter))
    rdd = sc.parallelize(list(enumerate(paths)), len(paths)).map(lambda item: _scan_one(item, prefilter, shared.value))
    step = max(batch or 2 * sc.defaultParallelism, 1)
    for lo in range(0, len(paths), step):
        rows = sc.runJob(rdd, list, range(lo, min(lo + step, len(paths))))
        rows.sort(key=lambda row: row[0])
        for _i, p, f, e, n, c, s in rows:
            yield FileResult(path=p, findings=f, errors=e, records=n, candidates=c, size=s)


def run_spark(paths: list[str], *, master: str | None, prefilter: bool = True) -> Iterator[FileResult]:
    """Start a session, yield the results as they come, stop the session when done (or abandoned)."""
    spark = spark_session(master)
    try:
        yield from scan_paths(spark, paths, prefilter=prefilter)
    finally:
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    """spark-submit entry point; same outputs and exit codes as `claimwatch scan` (docs/scan.md)."""
    import argparse

    from claimwatch.scan.output import OUT_SUFFIXES, FindingsWriter
    from claimwatch.scan.progress import Stats
    from claimwatch.scan.sources import UsageError, expand_inputs

    ap = argparse.ArgumentParser(prog="spark_job.py", description="claimwatch scan on Spark")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--out", help="FILE.jsonl or FILE.parquet (default: JSONL on stdout)")
    ap.add_argument("--master", help="Spark master (default: the one spark-submit gives, else local[*])")
    ap.add_argument("--no-prefilter", action="store_true")
    args = ap.parse_args(argv)

    def usage(msg: str) -> int:
        sys.stderr.write(f"claimwatch: error: {msg}\n")
        return 2

    if args.out and not args.out.endswith(OUT_SUFFIXES):
        return usage(f"--out must end in .jsonl or .parquet: {args.out}")
    try:
        files = expand_inputs(args.paths)
    except UsageError as exc:
        return usage(str(exc))
    stats = Stats()
    results = run_spark(files, master=args.master, prefilter=not args.no_prefilter)
    writer = FindingsWriter(args.out, "jsonl")
    try:
        for res in results:
            stats.add(res)
            for line in res.errors:
                sys.stderr.write(f"claimwatch: read error: {line}\n")
            writer.write(res.findings)
    finally:
        writer.close()
    sys.stderr.write(stats.summary() + "\n")
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
