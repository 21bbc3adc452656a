"""Searched by each alias: the UN list of 2024-09-26 and OFAC's SDN list of 2024-05-03.

    nice -n 10 .venv/bin/python analyses/vetting_aliases.py [--alt ALT.csv] [--add ADD.csv]
                          [--sample N] [--out FILE.csv] [--held-out-only | --listed-only]

Both lists are loaded into a fresh context lake the way ``detente sources load`` loads them
(OFAC's ``alt.csv`` and ``add.csv`` beside ``sdn.csv`` when given, or when the shared data
holds them), and each list is searched on its own (a person on both lists is one entity on
each: screened together, the other list's entry of the same person would come first;
``--together`` screens them together all the same). Every alias of every entity (or a sample) is searched
twice (``detente.vetting.aliases``): as the acceptance reads, with the entity listed under
that alias (is it ranked first among every entity that bears or resembles the name?), and
held out under it (is it found by its other names?); each time the share found first and in
the top three, and the true pairs (scored at 0.7 or more by the full matcher)
that the candidate index leaves out. Strong aliases (spellings, transliterations, the
original script, OFAC's alt.csv) and weak ones (nicknames and noms de guerre the lists mark
as weak or of low quality) are reported apart, and each list apart.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _arg(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def _line(what: str, s: dict[str, float]) -> str:
    return (
        f"{what}: {s['aliases']:,} aliases; first {s['first']:.1%} "
        f"(alone at the top {s['first_strict']:.1%}), "
        f"top three {s['top3']:.1%}; true pairs at 0.7 or more {s['true_matches']:,} "
        f"({s['recall_at_threshold']:.1%}), of which the candidate index misses {s['index_misses']}; "
        f"logic-v2's own score on the same candidates: first {s['base_first']:.1%}, "
        f"top three {s['base_top3']:.1%}, "
        f"true pairs at 0.7 or more {s['base_recall_at_threshold']:.1%}"
    )


def _search(screener, mode: str, sample: int | None, report) -> None:  # type: ignore[no-untyped-def]
    from detente.vetting.aliases import alias_queries, search_listed, search_one

    assert screener.index is not None
    queries = alias_queries(screener, sample)
    print(f"{screener.versions}: {len(screener.listed):,} entities, {screener.index.names:,} names; "
          f"searching {len(queries):,} aliases, each with its entity {mode} under it",
          flush=True)  # fmt: skip
    search = search_listed if mode == "listed" else search_one
    start = time.perf_counter()
    for k, (number, alias, weak) in enumerate(queries, start=1):
        report.searched.append(search(screener, number, alias, weak))
        if k % 2000 == 0:
            print(f"  {k:,} ({time.perf_counter() - start:.0f} s)", flush=True)


def _print(report) -> None:  # type: ignore[no-untyped-def]
    from detente.vetting.aliases import AliasReport

    print(_line("all aliases", report.summary()))
    print(_line("strong aliases", report.summary(weak=False)))
    print(_line("weak aliases", report.summary(weak=True)))
    for name, s in report.by_list().items():
        strong = AliasReport([r for r in report.searched if r.key.startswith(name + ":") and not r.weak])
        print(_line(f"  {name}", s))
        print(_line(f"  {name}, strong", strong.summary()))


def main() -> None:
    from detente.sources.lake import Lake
    from detente.sources.service import load
    from detente.vetting.aliases import AliasReport
    from detente.vetting.screen import Screener

    ofac = [SHARED / "ofac_sdn" / "sdn_2024-05-03.csv.gz"]
    for flag, name in (("--alt", "alt.csv"), ("--add", "add.csv")):
        given = _arg(flag)
        found = Path(given) if given else SHARED / "ofac_sdn" / name
        if found.exists():
            ofac.append(found)
    sample = int(_arg("--sample") or 0) or None
    together = "--together" in sys.argv
    with tempfile.TemporaryDirectory() as tmp, Lake(Path(tmp)) as lake:
        load(
            lake,
            "un_sanctions",
            [SHARED / "un_consolidated" / "un_consolidated_2024-09-26.xml"],
            user="analysis",
        )
        load(lake, "ofac", ofac, user="analysis")
        groups = [("un_sanctions", "ofac")] if together else [("un_sanctions",), ("ofac",)]
        screeners = [Screener.from_lake(lake, lists) for lists in groups]
    print(f"OFAC files: {', '.join(p.name for p in ofac)}")
    flags = (("listed", "--held-out-only"), ("held out", "--listed-only"))
    modes = [m for m, flag in flags if flag not in sys.argv]
    reports = {}
    for mode in modes:
        report = reports[mode] = AliasReport()
        for screener in screeners:
            _search(screener, mode, sample, report)
        what = "searched with its entity listed under it" if mode == "listed" else "held out"
        print(f"== each alias {what}")
        _print(report)
    out = _arg("--out")
    if out:
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            header = "mode key alias weak rank strict_first true_score in_candidates best"
            writer.writerow(header.split())
            for mode, report in reports.items():
                for r in report.searched:
                    writer.writerow([mode, r.key, r.alias, r.weak, r.rank or "", r.strict_first,
                                     f"{r.true_score:.3f}", r.in_candidates, r.best])  # fmt: skip
        print(f"-> {out}")


if __name__ == "__main__":
    main()
