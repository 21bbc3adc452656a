"""Screening speed on 1,000,000 names: detente's candidate index against a brute-force
rapidfuzz scan of the same names.

The names are the real lists' (the UN consolidated lists of 2018 and 2024 and OFAC's SDN
list of 2024: every primary name and alias), resampled to a million and perturbed the way
lists and clerks perturb them: tokens swapped, a letter changed, dropped or doubled, a
token dropped or another name's token added. Queries are 300 of those entities perturbed
once more; a query is found when the top candidate comes from the same real name.

* index: ``detente.vetting.index.NameIndex`` built over the million names (timed), then
  each query's candidates (p50/p95 latency); then, on the same shortlisted 30 candidates,
  the full screen with logic-v2 alone and with the learned matcher on top of it (p50/p95 and
  throughput as a batch; both warmed on the queries first, since logic-v2 keeps its name
  analyses as a server would, then timed alternately query by query), and the learned
  screen's cost as a ratio to logic-v2's at p95 (budget: 2x), whole screens and the scoring
  step alone (each screen minus the shortlist both share, timed on its own per query); ten
  results per query, the learned ones explained;
* brute force: ``rapidfuzz.process.extractOne`` with ``token_sort_ratio`` over all the
  names for each query (p50/p95), the baseline a careful analyst would write first.

Each contender runs in its own process, so its peak memory is its own.

    .venv/bin/python benchmarks/vetting.py [--names 1000000]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import child_main, in_processes

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
QUERIES, SCREENED, BRUTE = 300, 100, 30
LIMIT = 10  # results returned (and, for the learned matcher, explained) per query: screen's default
CONTENDERS = ("index", "bruteforce")


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
    asked = rng.choice(n, QUERIES, replace=False)
    queries = [_perturb(names[i], rng, pool) for i in asked]
    pq.write_table(pa.table({"name": names, "base": base}), folder / "names.parquet")
    pq.write_table(pa.table({"query": queries, "base": base[asked]}), folder / "queries.parquet")
    print(f"{len(real):,} real names resampled and perturbed to {n:,}", flush=True)


def _quantiles(seconds: list[float]) -> dict[str, float]:
    import numpy as np

    return {"p50_ms": float(np.median(seconds) * 1000), "p95_ms": float(np.quantile(seconds, 0.95) * 1000)}


def run(name: str, folder: Path) -> dict[str, object]:
    import pyarrow.parquet as pq

    names_table = pq.read_table(folder / "names.parquet")
    names = names_table.column("name").to_pylist()
    base = names_table.column("base").to_numpy()
    asked = pq.read_table(folder / "queries.parquet")
    queries, truth = asked.column("query").to_pylist(), asked.column("base").to_numpy()
    if name == "index":
        from detente.vetting.index import NameIndex
        from detente.vetting.match import Listed, Subject
        from detente.vetting.screen import Screener

        start = time.perf_counter()
        index = NameIndex.build([n] for n in names)
        built = time.perf_counter() - start
        lookups, found = [], 0
        for q, t in zip(queries, truth, strict=True):
            start = time.perf_counter()
            top = index.candidates([q], 30)
            lookups.append(time.perf_counter() - start)
            found += bool(top) and base[top[0][0]] == t
        listed = [Listed(f"bench:{i}", "bench", "Person", n) for i, n in enumerate(names)]
        screener = Screener(listed, index=index)
        for learned in (False, True):  # the matchers load their name data and model once
            screener.screen(Subject(queries[0]), learned=learned)
        times: dict[bool, list[float]] = {False: [], True: []}
        shortlist: list[float] = []  # the step both screens share: index and quick look
        matched = {False: 0, True: 0}
        for q in queries[:SCREENED]:  # logic-v2 keeps its name analyses: both run warm, as on a server
            for learned in (False, True):
                screener.screen(Subject(q), limit=LIMIT, learned=learned)
        for k, (q, t) in enumerate(zip(queries[:SCREENED], truth[:SCREENED], strict=True)):
            start = time.perf_counter()
            screener._shortlist(Subject(q), ())
            shortlist.append(time.perf_counter() - start)
            for learned in (False, True) if k % 2 else (True, False):
                start = time.perf_counter()
                best = screener.screen(Subject(q), limit=LIMIT, learned=learned)
                times[learned].append(time.perf_counter() - start)
                matched[learned] += bool(best) and base[int(best[0].listed.key.split(":")[1])] == t
        steps = {
            learned: [t - s for t, s in zip(times[learned], shortlist, strict=True)] for learned in times
        }
        return {
            "build_s": built,
            "index_mb": index.nbytes / 2**20,
            "keys": len(index.vocabulary),
            "candidates": _quantiles(lookups),
            "candidates_found_first": found / len(queries),
            "screen_base": _quantiles(times[False]),
            "screen": _quantiles(times[True]),
            "shortlist": _quantiles(shortlist),
            "step_base": _quantiles(steps[False]),
            "step": _quantiles(steps[True]),
            "base_found_first": matched[False] / SCREENED,
            "screen_found_first": matched[True] / SCREENED,
            "batch_per_s": SCREENED / sum(times[True]),
            "base_batch_per_s": SCREENED / sum(times[False]),
        }
    from rapidfuzz import fuzz, process, utils

    prepared = [utils.default_process(n) for n in names]
    scans, found = [], 0
    for q, t in zip(queries[:BRUTE], truth[:BRUTE], strict=True):
        start = time.perf_counter()
        best = process.extractOne(
            utils.default_process(q), prepared, scorer=fuzz.token_sort_ratio, processor=None
        )
        scans.append(time.perf_counter() - start)
        found += best is not None and base[best[2]] == t
    return {"scan": _quantiles(scans), "found_first": found / BRUTE}


def main() -> None:
    if child_main(run):
        return
    n = int(sys.argv[sys.argv.index("--names") + 1]) if "--names" in sys.argv else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        _corpus(n, Path(tmp))
        r = in_processes(__file__, CONTENDERS, tmp)
    mine, brute = r["index"], r["bruteforce"]
    print(
        f"index: built over {n:,} names in {mine['build_s']:.1f} s, {mine['keys']:,} keys, "
        f"{mine['index_mb']:.0f} MB of postings; peak {mine['peak'] / 2**20:,.0f} MB"
    )
    c, s, sb = mine["candidates"], mine["screen"], mine["screen_base"]
    print(
        f"  candidates: p50 {c['p50_ms']:.2f} ms, p95 {c['p95_ms']:.2f} ms; "
        f"same real name first {mine['candidates_found_first']:.0%} of {QUERIES}"
    )
    print(
        f"  screen, logic-v2 alone on the 30 shortlisted: p50 {sb['p50_ms']:.1f} ms, "
        f"p95 {sb['p95_ms']:.1f} ms; "
        f"{mine['base_batch_per_s']:.0f} names/s; same real name first {mine['base_found_first']:.0%}"
    )
    print(
        f"  screen, learned matcher on top: p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms; "
        f"{mine['batch_per_s']:.0f} names/s; same real name first {mine['screen_found_first']:.0%}"
    )
    print(
        f"  learned / logic-v2 alone, same run: p95 {s['p95_ms'] / sb['p95_ms']:.2f}x, "
        f"p50 {s['p50_ms'] / sb['p50_ms']:.2f}x (budget: 2x at p95)"
    )
    st, stb, sh = mine["step"], mine["step_base"], mine["shortlist"]
    print(
        f"  scoring step alone (screen minus the shared shortlist, p50 {sh['p50_ms']:.1f} ms): "
        f"logic-v2 p95 {stb['p95_ms']:.1f} ms, learned p95 {st['p95_ms']:.1f} ms: "
        f"{st['p95_ms'] / stb['p95_ms']:.2f}x at p95, {st['p50_ms'] / stb['p50_ms']:.2f}x at p50"
    )
    b = brute["scan"]
    print(
        f"brute force (rapidfuzz token_sort_ratio over every name): p50 {b['p50_ms']:.0f} ms, "
        f"p95 {b['p95_ms']:.0f} ms; same real name first {brute['found_first']:.0%} of {BRUTE}; "
        f"peak {brute['peak'] / 2**20:,.0f} MB"
    )
    print(
        f"ratio at p50: candidates {b['p50_ms'] / c['p50_ms']:,.0f}x faster, learned screen "
        f"{b['p50_ms'] / s['p50_ms']:,.1f}x faster than the scan; memory ratio "
        f"{mine['peak'] / brute['peak']:.2f}"
    )


if __name__ == "__main__":
    main()
