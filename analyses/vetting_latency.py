"""The learned screen against logic-v2 alone on the same shortlists (UN 2024-09-26 + OFAC SDN
2024-05-03 loaded; 100 listed names as queries; both warm; alternating in random order).

    nice -n 10 .venv/bin/python analyses/vetting_latency.py

A stand-in while benchmarks/vetting.py (reworked on the shared harness) does not time
logic-v2 alone: not a million names, so the candidate lists are shorter than there.
"""

import random
import tempfile
import time
from pathlib import Path

import numpy as np

from detente.sources.lake import Lake
from detente.sources.service import load
from detente.vetting.match import Subject
from detente.vetting.screen import Screener

shared = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
with tempfile.TemporaryDirectory() as tmp, Lake(Path(tmp)) as lake:
    load(lake, "un_sanctions", [shared / "un_consolidated" / "un_consolidated_2024-09-26.xml"], user="t")
    load(lake, "ofac", [shared / "ofac_sdn" / "sdn_2024-05-03.csv.gz"], user="t")
    s = Screener.from_lake(lake)
    rng = random.Random(3)
    names = [n for e in s.listed for n in e.names]
    qs = [rng.choice(names) for _ in range(100)]
    for q in qs[:20]:
        s.screen(Subject(q, "Person"))
        s.screen(Subject(q, "Person"), learned=False)
    a, b = [], []
    for q in qs:
        for learned, out in ((True, a), (False, b)) if rng.random() < 0.5 else ((False, b), (True, a)):
            t = time.perf_counter()
            s.screen(Subject(q, "Person"), learned=learned)
            out.append(time.perf_counter() - t)
    a, b = np.array(a) * 1000, np.array(b) * 1000
    pa, pb = np.quantile(a, 0.95), np.quantile(b, 0.95)
    print(
        f"UN+OFAC, 100 listed names as queries, warm: learned p50 {np.median(a):.1f} p95 {pa:.1f} ms; "
        f"logic-v2 alone p50 {np.median(b):.1f} p95 {pb:.1f} ms; "
        f"ratio p95 {pa / pb:.2f}x p50 {np.median(a) / np.median(b):.2f}x"
    )
