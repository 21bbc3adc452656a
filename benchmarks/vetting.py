"""Screening speed on 1,000,000 names (30,000 in the quick run): detente's screen against a
brute-force rapidfuzz scan of the same names, on the same queries.

The names are the real lists' (the UN consolidated lists of 2018 and 2024 and OFAC's SDN
list of 2024: every primary name and alias), resampled to a million and perturbed the way
lists and clerks perturb them: tokens swapped, a letter changed, dropped or doubled, a
token dropped or another name's token added. Queries are entities perturbed once more; a
query is found when the top result comes from the same real name.

* detente: ``NameIndex`` built over the names (timed on its own), then for each query
  the full screen (``Screener.screen``: the index's 30 candidates scored by logic-v2 and
  the learned matcher, ten results) returning a final ranked match; the candidate lookup
  alone is timed too, but it returns a shortlist, not a match, so it is not compared with
  the scan as like for like;
* brute force: ``rapidfuzz.process.extractOne`` with ``token_sort_ratio`` over all the
  names for each query, the baseline a careful analyst would write first (a final match).

Like for like: the same queries (``--queries``, 100; 30 in the quick run) on both sides for
every figure; both sides load the names before the clock; each side answers one warm-up
query (not one of the measured ones) before the clock, so the matcher's model and the
scan's code are both loaded; then each measured query once. Each run is a fresh process,
the sides alternating, 5 runs each; the figures are medians over runs of each run's p50.

    .venv/bin/python benchmarks/vetting.py [--quick] [--names 1000000] [--queries 100]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPEAT, alternate, child_main, emit, quick, row, spread, value_row

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
LIMIT = 10  # results returned (and, for the learned matcher, explained) per query: screen's default
CONTENDERS = ("index", "bruteforce")
ASKED = 101  # queries made: one warm-up and up to 100 measured


def _real_names() -> list[str]:
    from detente.sources.sanctions import parse_ofac, parse_un

    names: set[str] = set()
    parsed = [
        parse_un([SHARED / "un_consolidated" / f"un_consolidated_{d}.xml"])
        for d in ("2018-10-29", "2024-09-26")
    ]
    parsed.append(parse_ofac([SHARED / "ofac_sdn" / "sdn_2024-05-03.csv.gz"]))
    for p in parsed:
        table = next(iter(p.tables.values()))
        for name, aliases in zip(
            table.column("name").to_pylist(), table.column("aliases").to_pylist(), strict=True
        ):
            names.update(n for n in [name, *(aliases or [])] if n and len(n.split()) > 1)
    return sorted(names)


def _perturb(name: str, rng, pool: list[str]) -> str:  # type: ignore[no-untyped-def]
    tokens = name.split()
    kind = rng.integers(6)
    if kind == 0 and len(tokens) > 1:
        i, j = rng.choice(len(tokens), 2, replace=False)
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif kind in (1, 2):
        i = int(rng.integers(len(tokens)))
        t = tokens[i]
        at = int(rng.integers(len(t)))
        letter = "aeiouhnrst"[int(rng.integers(10))]
        tokens[i] = (t[:at] + letter + t[at + 1 :], t[:at] + t[at + 1 :] or t, t[:at] + t[at] + t[at:])[
            kind - 1
        ]
    elif kind == 3 and len(tokens) > 2:
        tokens.pop(int(rng.integers(len(tokens))))
    elif kind == 4:
        tokens.insert(int(rng.integers(len(tokens) + 1)), pool[int(rng.integers(len(pool)))])
    return " ".join(tokens)


def _corpus(n: int, folder: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    real = _real_names()
    rng = np.random.default_rng(7)
    pool = sorted({t for name in real for t in name.split() if t.isalpha() and len(t) > 2})
    base = rng.integers(len(real), size=n)
    names = [_perturb(real[b], rng, pool) for b in base]
    asked = rng.choice(n, ASKED, replace=False)
    queries = [_perturb(names[i], rng, pool) for i in asked]
    pq.write_table(pa.table({"name": names, "base": base}), folder / "names.parquet")
    pq.write_table(pa.table({"query": queries, "base": base[asked]}), folder / "queries.parquet")
    print(f"{len(real):,} real names resampled and perturbed to {n:,}", flush=True)


def _quantiles(seconds: list[float]) -> dict[str, float]:
    import numpy as np

    return {"p50_ms": float(np.median(seconds) * 1000), "p95_ms": float(np.quantile(seconds, 0.95) * 1000)}


def _load(folder: Path) -> tuple[list[str], object, list[str], object]:
    import pyarrow.parquet as pq

    names_table = pq.read_table(folder / "names.parquet")
    asked = pq.read_table(folder / "queries.parquet")
    return (
        names_table.column("name").to_pylist(),
        names_table.column("base").to_numpy(),
        asked.column("query").to_pylist(),
        asked.column("base").to_numpy(),
    )


def _learned_cost(screener: object, queries: list[str], warm: str) -> dict[str, float]:
    """The learned step's cost (#18: at most 2x logic-v2 alone at p95): the same screens
    scored by logic-v2 alone and with the learned matcher on top, query by query, the
    order flipping each query, both warm (logic-v2 keeps its name analyses, as on a server)."""
    from detente.vetting.match import Subject

    screen = screener.screen  # type: ignore[attr-defined]
    screen(Subject(warm), limit=LIMIT, learned=False)
    times: dict[bool, list[float]] = {True: [], False: []}
    for k, q in enumerate(queries):
        for learned in (True, False) if k % 2 else (False, True):
            start = time.perf_counter()
            screen(Subject(q), limit=LIMIT, learned=learned)
            times[learned].append(time.perf_counter() - start)
    return {
        "learned_p95_s": float(np.quantile(times[True], 0.95)),
        "logic_p95_s": float(np.quantile(times[False], 0.95)),
    }


def run(name: str, folder: Path) -> dict[str, object]:
    """One side: the names loaded, one warm-up query, then the measured queries once each."""
    names, base, queries, truth = _load(folder)
    count = int(sys.argv[4])
    warm, measured = queries[0], list(zip(queries[1 : count + 1], truth[1 : count + 1], strict=True))
    if name == "index":
        from detente.vetting.index import NameIndex
        from detente.vetting.match import Listed, Subject
        from detente.vetting.screen import Screener

        start = time.perf_counter()
        index = NameIndex.build([n] for n in names)
        built = time.perf_counter() - start
        screener = Screener(
            [Listed(f"bench:{i}", "bench", "Person", n) for i, n in enumerate(names)], index=index
        )
        screener.screen(Subject(warm), limit=LIMIT)
        lookups, screens, found = [], [], 0
        for q, t in measured:
            start = time.perf_counter()
            index.candidates([q], 30)
            lookups.append(time.perf_counter() - start)
            start = time.perf_counter()
            best = screener.screen(Subject(q), limit=LIMIT)
            screens.append(time.perf_counter() - start)
            found += bool(best) and base[int(best[0].listed.key.split(":")[1])] == t
        costs = _learned_cost(screener, [q for q, _ in measured], warm)
        return {
            **costs,
            "seconds": float(np.median(screens)),
            "candidates_s": float(np.median(lookups)),
            "p95_s": float(np.quantile(screens, 0.95)),
            "build_s": built,
            "keys": len(index.vocabulary),
            "found": found / len(measured),
        }
    from rapidfuzz import fuzz, process, utils

    prepared = [utils.default_process(n) for n in names]
    process.extractOne(utils.default_process(warm), prepared, scorer=fuzz.token_sort_ratio, processor=None)
    scans, found = [], 0
    for q, t in measured:
        start = time.perf_counter()
        best = process.extractOne(
            utils.default_process(q), prepared, scorer=fuzz.token_sort_ratio, processor=None
        )
        scans.append(time.perf_counter() - start)
        found += best is not None and base[best[2]] == t
    return {
        "seconds": float(np.median(scans)),
        "p95_s": float(np.quantile(scans, 0.95)),
        "found": found / len(measured),
    }


def main() -> None:
    if child_main(run):
        return
    argv = sys.argv
    # quick: 30,000 names (the index build, about 14 s a run at 100,000 on 2 busy cores, was
    # most of the quick run's vetting time); the scan's cost grows with the names, so the
    # quick ratio is lower than the full run's
    n = int(argv[argv.index("--names") + 1]) if "--names" in argv else 30_000 if quick() else 1_000_000
    count = int(argv[argv.index("--queries") + 1]) if "--queries" in argv else 30 if quick() else 100
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else REPEAT
    with tempfile.TemporaryDirectory() as tmp:
        _corpus(n, Path(tmp))
        runs = alternate(__file__, list(CONTENDERS), tmp, repeat, args=[str(count)])
    mine, brute = runs["index"], runs["bruteforce"]
    ms = [{**r, "seconds": r["seconds"] * 1000} for r in mine]
    cand = [{**r, "seconds": r["candidates_s"] * 1000} for r in mine]
    scan = [{**r, "seconds": r["seconds"] * 1000} for r in brute]
    cost = spread(r["learned_p95_s"] / r["logic_p95_s"] for r in mine)
    found = spread(100 * r["found"] for r in mine)
    found_scan = spread(100 * r["found"] for r in brute)
    emit(
        "vetting",
        f"screen {count} queries against {n:,} names (the UN lists of 2018 and 2024 and OFAC's SDN list, "
        "resampled and perturbed); per-query latency p50 of each run, the same queries on both sides",
        [
            row("full screen, a final ranked match (p50 per query)", ms, scan,
                "rapidfuzz extractOne scan (a final match)", unit="ms"),
            row("candidate lookup alone (p50 per query)", cand, scan, "the same scan", unit="ms",
                note="not like for like: a shortlist of 30, not a final match; shown for the index's share"),
            value_row("learned step's cost: p95 of a screen with the learned matcher / logic-v2 alone",
                      f"{cost['median']:.2f}x ({cost['min']:.2f}-{cost['max']:.2f}); learned p95 "
                      f"{spread(r['learned_p95_s'] * 1000 for r in mine)['median']:.1f} ms, logic-v2 alone "
                      f"{spread(r['logic_p95_s'] * 1000 for r in mine)['median']:.1f} ms",
                      "budget 2x (#18); the same candidates, alternating query by query"),
            value_row("right real name first, same queries",
                      f"detente {found['median']:.0f}% against the scan's {found_scan['median']:.0f}% "
                      f"({count} queries)"),
            value_row("index build over all names", f"{spread(r['build_s'] for r in mine)['median']:.1f} s "
                      f"(median of {len(mine)}), {mine[0]['keys']:,} keys; peak "
                      f"{spread(r['peak'] / 2**20 for r in mine)['median']:,.0f} MB against the scan's "
                      f"{spread(r['peak'] / 2**20 for r in brute)['median']:,.0f} MB"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
