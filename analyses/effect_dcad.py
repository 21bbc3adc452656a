"""Defense cooperation agreements and conflict: an effect study on real open data.

Question: after a state signs its first defense cooperation agreement (DCAD, Kinne 2020),
do battle deaths, armed conflict, one-sided violence and conflict onsets in it change,
compared with what its own earlier years and states not (yet) signing predict? And what
can such a design claim?

Design (``detente.assessment.effects``): COW country-years 1990-2010; treatment = the
year of a state's first DCAD agreement (any type; optionally the first general one);
states that signed before 1990, or with fewer than two unsigned years in the window, are
left out; Gardner's two-stage difference-in-differences (pyfixest's did2s), standard
errors clustered by state; an event study with a joint pre-trend test; and a placebo
study of random adoption dates whose false-positive rate at 5% should come out near 5%.

    .venv/bin/python analyses/effect_dcad.py [--placebos 1000] [--seed 1] [--out FOLDER]

It prints one summary row per outcome and then each study's write-up (Markdown).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from detente.assessment.effects import run_study
from detente.sources.lake import Lake
from detente.sources.service import load

ROOT = Path(__file__).resolve().parents[1]
FILES = {  # source: (file under the shared data folder, version)
    "cow_states": ("cow/states2016.csv", "2016"),
    "dcad": ("dcad/DCAD-v1.0-main.csv", "1.0"),
    "ucdp_brd": ("ucdp_small/BattleDeaths_v23_1_to2019.csv", None),
    "ucdp_acd": ("ucdp_acd/ucdp-prio-acd-221.csv", None),
    "ucdp_onesided": ("ucdp_small/OneSided_v23_1_to2019.csv", None),
    "ucdp_onsets": ("peacesciencer/ucdp_onsets.csv.gz", "peacesciencer"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--placebos", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=1990)
    parser.add_argument("--last", type=int, default=2010)
    parser.add_argument("--treatments", default="dcad_first,dcad_first_general")
    parser.add_argument("--outcomes", default="brd_log,conflict,osv_log,onset")
    parser.add_argument("--out", type=Path, help="also write each write-up here (Markdown)")
    args = parser.parse_args()
    shared = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    console = Console(width=160)
    table = Table(title=f"First DCA and conflict, {args.first}-{args.last} ({args.placebos} placebo draws)")
    columns = (
        "treatment",
        "outcome",
        "ATT",
        "95% CI",
        "p",
        "pre-trend F (p)",
        "placebo FPR [95%]",
        "treated+never, country-years",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("treatment", "outcome") else "right")
    pages = []
    with tempfile.TemporaryDirectory() as tmp, Lake(Path(tmp)) as lake:
        for name, (file, version) in FILES.items():
            load(lake, name, [shared / file], user="analysis", version=version)
        for treatment in args.treatments.split(","):
            for outcome in args.outcomes.split(","):
                start = time.perf_counter()
                study = run_study(
                    lake, treatment, outcome, args.first, args.last, placebos=args.placebos, seed=args.seed
                )
                seconds = time.perf_counter() - start
                a, p, q, s = study.att, study.pretrend, study.placebo, study.sample
                assert p is not None and q is not None
                table.add_row(
                    treatment, outcome, f"{a.estimate:+.3f}", f"{a.ci_low:+.3f} to {a.ci_high:+.3f}",
                    f"{a.p_value:.3g}", f"F({p.df1},{p.df2}) = {p.f_statistic:.2f} ({p.p_value:.3f})",
                    f"{q.rejections}/{q.draws} = {q.rate:.1%} [{q.ci_low:.1%}, {q.ci_high:.1%}]",
                    f"{s.treated_units}+{s.never_treated_units}, {s.country_years:,}",
                )  # fmt: skip
                console.print(f"{treatment} -> {outcome}: {seconds:.1f} s", highlight=False)
                pages.append((f"{treatment}-{outcome}", study.to_markdown()))
    console.print(table)
    for name, page in pages:
        console.print(page, highlight=False, markup=False)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}.md").write_text(page)


if __name__ == "__main__":
    main()
