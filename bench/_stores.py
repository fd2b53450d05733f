"""The stores a benchmark runs on: a fresh SQLite directory, and with ``postgres`` a throwaway PostgreSQL cluster.

    with bench_stores("bench-web-", postgres=args.postgres) as targets:
        for backend, make_url in targets.items():   # "sqlite", then "postgresql"
            url = make_url("web")                     # a new database of that name

Both are removed afterwards: a cluster left in /dev/shm holds gigabytes of memory.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_stores(prefix: str, *, postgres: bool) -> Iterator[dict[str, Callable[[str], str]]]:
    work = Path(tempfile.mkdtemp(prefix=prefix))
    targets: dict[str, Callable[[str], str]] = {"sqlite": lambda name: f"sqlite:///{work / name}.db"}
    cluster = None
    try:
        if postgres:
            sys.path.insert(0, str(ROOT))
            from tests.harness.postgres import Postgres
            from tests.harness.process import make_base_dir

            cluster = Postgres(make_base_dir("bench-pg-") / "pg").start()  # a directory the postgres account can enter
            targets["postgresql"] = cluster.create_database
        yield targets
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.root.parent, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
