"""``detente vet`` end to end: screening against the UN and OFAC lists with the evidence,
listed dates of birth read in the lists' own formats, and bad input named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from detente.vetting.match import iso_dates


def test_screen_shows_candidates_with_their_evidence(cli: Callable[..., str], shared: Path) -> None:
    assert "no sanctions list in the lake" in cli("vet", "screen", "Kim Jong Un", code=2)
    cli("sources", "load", "un_sanctions", str(shared / "un_consolidated" / "un_consolidated_2024-09-26.xml"))
    cli("sources", "load", "ofac", str(shared / "ofac_sdn" / "sdn_2024-05-03.csv.gz"))
    out = cli("vet", "screen", "Kim Jong Un", "--dob", "1984", "--country", "North Korea", "--limit", "5")
    assert "against 15,840 listed entities" in out and "un_sanctions 2024-09-26" in out
    first = next(line for line in out.splitlines() if line.startswith("│ 1 "))
    assert "MATCH" in first and "ofac:ofac-20157" in first
    assert ("dob_agree" in out and "same date of birth 1984-01-08" in out) or "same year of birth 1984" in out
    assert "against: dob_conflict" in out and "born 1984 vs" in out  # a relative, born elsewhen
    assert "1 match at or above 0.7" in out
    osama = cli("vet", "screen", "أسامة بن لادن", "--limit", "2")  # his son's entry: a near miss, says why
    first = next(line for line in osama.splitlines() if line.startswith("│ 1 "))
    assert "QDi.421" in first and "no match" in first and "no match" in osama.splitlines()[-1]
    assert "against: given_name_conflict" in osama and "given names differ: asama vs hmza" in osama
    cyrillic = cli("vet", "screen", "Путин Владимир Владимирович", "--limit", "1")  # another script and order
    assert "ofac:ofac-35096" in cyrillic and "PUTIN, Vladimir" in cyrillic and "1 match" in cyrillic
    assert "give the date of birth as YYYY" in cli("vet", "screen", "Kim", "--dob", "soon", code=2)
    assert "control character U+0007" in cli("vet", "screen", "Kim\x07", code=2)
    assert "is not one of Person" in cli("vet", "screen", "Kim", "--schema", "Planet", code=2)


def test_evaluate_reports_the_curve_and_names_bad_rows(cli: Callable[..., str], tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "schema,name1,name2,is_match\n"
        "Person,Vladimir Putin,Владимир Путин,true\n"
        "Person,Olaf Scholz,Angela Merkel,false\n"
        "Company,Gazprom OOO,Gazprom LLC,true\n"
        "Person,John Smith,Jane Smyth,false\n",
        encoding="utf-8",
    )
    out = cli("vet", "evaluate", str(pairs))
    assert "4 pairs, 2 matches" in out and "trained on none of these pairs" in out
    assert "at the default threshold 0.7: precision 1.000, recall 1.000, F1 1.000" in out
    assert "logic-v2 alone at 0.7: precision 1.000, recall 1.000, F1 1.000" in out
    pairs.write_text("name1,name2,is_match\nA,B,perhaps\n", encoding="utf-8")
    assert "line 2: is_match 'perhaps'" in cli("vet", "evaluate", str(pairs), code=2)
    pairs.write_text("name,other\nA,B\n", encoding="utf-8")
    assert "no column 'name1'" in cli("vet", "evaluate", str(pairs), code=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08 Jan 1984", ["1984-01-08"]),
        ("Jan 1984", ["1984-01"]),
        ("1984", ["1984"]),
        ("1984-01-08", ["1984-01-08"]),
        ("circa 1970", ["1970"]),
        ("1965 to 1967", ["1965", "1966", "1967"]),
        ("1900 to 1990", []),  # too wide to say anything
        ("unknown", []),
    ],
)
def test_listed_birth_dates_are_read_in_the_lists_formats(text: str, expected: list[str]) -> None:
    assert iso_dates(text) == expected


def test_batch_screens_a_file_and_the_registry(cli: Callable[..., str], shared: Path, tmp_path: Path) -> None:
    cli("sources", "load", "ofac", str(shared / "ofac_sdn" / "sdn_2024-05-03.csv.gz"))
    subjects = tmp_path / "subjects.csv"
    subjects.write_text(
        "ref,name,schema,dob,country,aliases\n"
        "A1,Vladimir Putin,Person,1952,RUS,\n"
        "A2,Wagner Group,Organization,,,PMC Wagner;ChVK Vagner\n"
        "A3,Kwame Mensah-Boateng,Person,1970,GHA,\n",
        encoding="utf-8",
    )
    out = cli("vet", "batch", str(subjects), "--out", str(tmp_path / "found.csv"))
    assert "2 of 3 subjects match a listed entity" in out
    assert "ofac:ofac-35096" in out and "ofac:ofac-22543" in out and "A3" not in out
    rows = (tmp_path / "found.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("ref,subject,rank,score,verdict,listed_key")
    wagner = next(r for r in rows if r.startswith("A2,Wagner Group,1,"))
    assert "ofac:ofac-22543" in wagner and "logic_v2" in wagner  # the evidence, feature by feature
    subjects.write_text("name,dob\nAli,tomorrow\n,1970\nOmar,1970\n", encoding="utf-8")
    bad = cli("vet", "batch", str(subjects), code=2)
    assert "2 bad row(s), nothing screened" in bad and "line 2: dob" in bad and "line 3: name: empty" in bad
    for name, kind in (("PMC Wagner", "private_military_company"), ("Ghana Armed Forces", "armed_service")):
        cli("actors", "add", name, "--kind", kind, "--country", "GHA", "--marking", "UNCLASSIFIED//TLP:CLEAR")
    registry = cli("vet", "batch", "--registry", "--show", "all")
    assert "2 subjects" in registry and "1 of 2 subjects match" in registry
    assert "give a subjects FILE or --registry" in cli("vet", "batch", code=2)


def test_decide_and_review_from_the_cli(cli: Callable[..., str], shared: Path) -> None:
    cli("sources", "load", "un_sanctions", str(shared / "un_consolidated" / "un_consolidated_2018-10-29.xml"))
    cli("actors", "add", "PMC Wagner", "--kind", "private_military_company", "--country", "RUS")
    out = cli(
        "vet", "decide", "--actor", "PMC Wagner", "--outcome", "cleared_with_conditions",
        "--check", "sanctions_listing=no", "--conditions", "No lethal training", "--officer", "Maj. Reed",
    )  # fmt: skip
    assert "PMC Wagner cleared_with_conditions, valid until" in out and "0 candidate(s)" in out
    assert "no flagged" not in cli("vet", "decisions") and "0 flagged" in cli("vet", "decisions")
    cli("sources", "load", "ofac", str(shared / "ofac_sdn" / "sdn_2024-05-03.csv.gz"))
    flagged = cli("vet", "decisions")
    assert "ofac:ofac-22543" in flagged and "1 decision(s); 1 flagged for re-vetting" in flagged
    assert "an actor or a person" in cli("vet", "decide", "--outcome", "cleared", code=2)
    assert "is not a date" in cli("vet", "decisions", "--on", "soon", code=2)


def test_guard_and_override_from_the_cli(cli: Callable[..., str], shared: Path) -> None:
    cli("sources", "load", "un_sanctions", str(shared / "un_consolidated" / "un_consolidated_2018-10-29.xml"))
    cli("actors", "add", "Ghana", "--kind", "state", "--country", "GHA")
    cli("actors", "add", "Ruga Militia", "--kind", "militia")
    cli(
        "engagements", "add", "Liaison visit", "--kind", "defense_dialogue", "--lead", "GHA",
        "--partner", "Ruga Militia", "--start", "2031-02-01", "--status", "planned",
    )  # fmt: skip
    out = cli("vet", "guard")
    assert "Ruga Militia" in out and "missing" in out and "1 finding(s)" in out
    assert "at least 10 characters" in cli("vet", "override", "Liaison visit", "--reason", "ok", code=2)
    done = cli("vet", "override", "Liaison visit", "--reason", "Chief of Defence Staff direction 12")
    assert "override recorded in the audit trail for Liaison visit (1 finding(s))" in done
    cli("vet", "decide", "--actor", "Ruga Militia", "--outcome", "cleared")  # a year: ends before 2031
    assert "expired" in cli("vet", "guard", "Liaison visit")
    cli(
        "vet", "decide", "--actor", "Ruga Militia", "--outcome", "cleared_with_conditions",
        "--conditions", "Liaison only", "--valid-until", "2031-12-31",
    )  # fmt: skip
    assert "0 finding(s)" in cli("vet", "guard", "Liaison visit")
    assert "nothing to override" in cli(
        "vet", "override", "Liaison visit", "--reason", "Just in case it helps", code=2
    )


def test_a_score_just_under_the_threshold_never_reads_as_it() -> None:
    from detente.cli.vetting import shown
    from detente.vetting.match import THRESHOLD

    assert shown(THRESHOLD - 0.0004) == "0.69" and shown(THRESHOLD) == "0.70"
    assert shown(0.949) == "0.94" and shown(1.0) == "1.00" and shown(0.0) == "0.00"


def test_screen_asks_a_running_server_and_shows_the_same_answer(
    cli: Callable[..., str], shared: Path, tmp_path: Path
) -> None:
    """With `detente serve` running on the workspace (announced in it), `vet screen` asks the
    server, which keeps the lists and the matcher loaded, and prints what it would have
    printed itself."""
    from detente.cli.context import announced
    from detente.core.settings import Settings
    from detente.core.workspace import create_workspace
    from tests.live import live_server

    cli("sources", "load", "un_sanctions", str(shared / "un_consolidated" / "un_consolidated_2024-09-26.xml"))
    args = ("vet", "screen", "Kim Jong Un", "--dob", "1984", "--limit", "3")
    alone = cli(*args)
    assert "answered by the server" not in alone
    settings = Settings(workspace=tmp_path / "ws", database_url="")
    with create_workspace(settings) as ws, live_server(ws) as base, announced(ws.path, base):
        served = cli(*args)
    assert f"answered by the server at {base}" in served
    assert served.splitlines()[:-1] == alone.splitlines()
    again = cli(*args)  # the server has stopped: screened here again
    assert again == alone


def test_a_server_is_announced_only_while_it_runs(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    from detente.cli.context import SERVER_FILE, announced, running_server

    assert running_server(tmp_path) is None
    with announced(tmp_path, "http://127.0.0.1:9"):
        assert running_server(tmp_path) == "http://127.0.0.1:9"
    assert running_server(tmp_path) is None and not (tmp_path / SERVER_FILE).exists()
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    (tmp_path / SERVER_FILE).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": int(gone.stdout)}))
    assert running_server(tmp_path) is None  # left behind by a server that died
    (tmp_path / SERVER_FILE).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": os.getpid()}))
    assert running_server(tmp_path) == "http://127.0.0.1:9"
