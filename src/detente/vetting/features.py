"""The learned matcher's features: what logic-v2 does not look at, measured on prepared names
(``detente.vetting.names``) and on the other fields of the two records.

Name features compare one name of the subject with one name of the listed entity:

* ``cover_query`` / ``cover_listed``: how much of each name the other accounts for, each token
  weighted by its rarity (inverse document frequency over the loaded lists), so sharing "Muhammad"
  or "al" says little and sharing "Margoshvili" a lot;
* ``token_similarity``: how close the aligned tokens are (spelling, consonant skeleton);
* ``rare_shared``: the rarest token the names share;
* ``unmatched_query`` / ``unmatched_listed``: the rarest token left without a counterpart;
* ``joined`` / ``skeleton``: the names as one string, and their consonant skeletons, in order
  and sorted (names split or joined differently, transliterations across scripts);
* ``acronym``: one name is the initialism or acronym of the other (LTTE, KTJ);
* ``given_name_conflict``: for people, the first given name of one has no counterpart in the
  other while the rest agrees: a relative sharing the family name (Hamza and Usama bin Laden);
* ``number_conflict``, ``legal_form_conflict``: different numbers or legal forms in the names;
* ``rare_weak``: the rarest pair of aligned tokens that are only alike, not the same (rarity
  times dissimilarity: "Sancho" for "Sánchez" weighs more than "Mohamad" for "Muhammad");
* ``parent_swap``: for people, the names before and after "bin"/"ibn" are swapped (a father
  and his son: "Ahmad bin Hasan" and "Hasan bin Ahmad");
* ``place_conflict`` / ``place_extra`` (organisations, from the written names, brackets
  included): the names carry different countries ("Bank of China (Hong Kong)", "(Singapore)"),
  or only one carries one ("Banco Santander" and "Banco Santander Chile");
  ``number_extra``: only one organisation's name carries a number or a Roman numeral
  ("Bowne Global Solutions II");
* ``cross_script``: the names were written in different scripts; ``query_tokens``,
  ``listed_tokens``, ``skeleton_chars``: how long the names are (two short names share
  their consonants by chance more often than two long ones).

Field features compare the records: ``dob_agree`` / ``dob_conflict``, ``country_agree`` /
``country_conflict``, ``identifier_match``, and whether the best listed name is a weak alias.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from detente.vetting.names import PARTICLES, STOPWORDS, Prepared, skeleton

__all__ = ["FEATURES", "NAME_FEATURES", "Fields", "Rarity", "field_features", "name_features"]

FEATURES_VERSION = "6"  # bumped whenever a feature's computation changes (the shipped rows say which)
NAME_FEATURES = (
    "cover_query", "cover_listed", "token_similarity", "rare_shared", "unmatched_query",
    "unmatched_listed", "joined", "skeleton", "acronym", "given_name_conflict", "number_conflict",
    "legal_form_conflict", "cross_script", "query_tokens", "listed_tokens", "skeleton_chars",
    "rare_weak", "parent_swap", "place_conflict", "place_extra", "number_extra",
)  # fmt: skip
FIELD_FEATURES = (
    "dob_agree", "dob_conflict", "country_agree", "country_conflict", "identifier_match", "person",
)  # fmt: skip
BASE_FEATURES = ("logic_v2", "logic_v2_name")
FEATURES = BASE_FEATURES + NAME_FEATURES + FIELD_FEATURES
# +1: the score may only rise with the feature; -1: only fall; 0: either
MONOTONE = {
    "logic_v2": 1, "logic_v2_name": 1, "cover_query": 1, "cover_listed": 1, "token_similarity": 1,
    "rare_shared": 1, "unmatched_query": -1, "unmatched_listed": -1, "joined": 1, "skeleton": 1,
    "acronym": 1, "given_name_conflict": -1, "number_conflict": -1, "legal_form_conflict": -1,
    "cross_script": 0, "query_tokens": 0, "listed_tokens": 0, "skeleton_chars": 0, "rare_weak": -1,
    "parent_swap": -1, "place_conflict": -1, "place_extra": -1, "number_extra": -1,
    "dob_agree": 1,
    "dob_conflict": -1,
    "country_agree": 1, "country_conflict": -1, "identifier_match": 1, "person": 0,
}  # fmt: skip
MATCHED = 0.7  # two tokens this similar are counted as the same


# words of legal forms as transliterated from Russian and Ukrainian ("Obshchestvo s ogranichennoi
# otvetstvennostyu" is an LLC), misspelt as lists misspell them: they say nothing of who it is
LEGAL_WORDS = (
    "obshchestvo", "obshestvo", "aktsionernoe", "aktsionernoye", "akcionernoe", "otkrytoe", "otkrytoye",
    "zakrytoe", "zakrytoye", "publichnoe", "publichnoye", "nepublichnoe", "ogranichennoi", "ogranichennoy",
    "otvetstvennostyu", "otvetstvennostiu", "tovarishchestvo", "tovarystvo", "obmezhenoyu",
    "vidpovidalnistyu", "aktsionerne", "pryvatne", "unitarnoe", "predpriyatie", "gosudarstvennoe",
    "federalnoe", "kompaniya", "joint", "stock", "company", "limited", "liability", "closed",
)  # fmt: skip


@lru_cache(maxsize=200_000)
def legal_word(token: str) -> bool:
    """A legal form's word, or a misspelling of one ("granichennoi", "stok")."""
    if len(token) < 5:
        return token == "stok"
    return any(Levenshtein.normalized_similarity(token, w) >= 0.84 for w in LEGAL_WORDS)


class Rarity:
    """Token rarity: inverse document frequency in [0, 1] over a set of names
    (1 for a token never seen, near 0 for one on every name)."""

    def __init__(self, frequency: Callable[[str], int], size: int) -> None:
        self._frequency = frequency
        self.size = max(size, 1)
        self._norm = math.log(self.size + 1)
        self._cache: dict[str, float] = {}

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], size: int) -> Rarity:
        return cls(lambda t: counts.get(t, 0), size)

    def __call__(self, token: str) -> float:
        found = self._cache.get(token)
        if found is None:
            if token in STOPWORDS or token in PARTICLES or legal_word(token):
                found = 0.05
            else:
                df = self._frequency(token)
                found = min(1.0, math.log((self.size + 1) / (df + 0.5)) / self._norm)
            if len(self._cache) < 500_000:
                self._cache[token] = found
        return found


@lru_cache(maxsize=1_000_000)
def _sim(a: str, sa: str, b: str, sb: str) -> float:
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:  # an initial
        return 0.6 if a[0] == b[0] else 0.0
    s = Levenshtein.normalized_similarity(a, b)
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(short) >= 4 and long.startswith(short):  # an abbreviation: "electr", "intl", "corp"
        s = max(s, 0.85)
    # the same consonants, and letters not too far apart: a transliteration of the same name
    if sa == sb and ((len(sa) >= 3 and s >= 0.45) or (len(sa) == 2 and s >= 0.6)):
        s = max(s, 0.9 if len(sa) >= 3 else 0.8)
    elif len(sa) >= 3 and len(sb) >= 3 and s >= 0.45:
        s = max(s, 0.85 * Levenshtein.normalized_similarity(sa, sb))
    return s


_TEXT_TOKEN = re.compile(r"[a-z0-9]+")
_ROMAN = frozenset(["ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii", "xiii", "xiv", "xv"])
_PLACE_EXTRA = (("uk",), ("usa",), ("uae",), ("hong", "kong"), ("macau",), ("macao",), ("ussr",))
_SONS = frozenset(["bin", "ibn", "ben", "bint", "binti", "ould"])


@lru_cache(maxsize=200_000)
def _text_tokens(text: str) -> tuple[str, ...]:
    """The written name's words, brackets included, folded to lower-case ASCII."""
    folded = unicodedata.normalize("NFKD", text.replace(".", "")).encode("ascii", "ignore").decode()
    return tuple(_TEXT_TOKEN.findall(folded.lower()))


@lru_cache(maxsize=1)
def _places() -> dict[str, list[tuple[str, ...]]]:
    """Country and territory names (rigour's table), as word sequences keyed by first word."""
    from rigour.territories import get_territories

    out: dict[str, list[tuple[str, ...]]] = {}
    phrases = {_text_tokens(t.name) for t in get_territories()} | set(_PLACE_EXTRA)
    for words in phrases:
        if words and not (len(words) == 1 and words[0] in STOPWORDS):
            out.setdefault(words[0], []).append(words)
    return out


@lru_cache(maxsize=200_000)
def places_in(text: str) -> frozenset[str]:
    """The countries and territories a written name carries ("Bank of China (Hong Kong)":
    china, hong kong)."""
    words, found = _text_tokens(text), set()
    table = _places()
    for i, w in enumerate(words):
        for phrase in table.get(w, ()):
            if words[i : i + len(phrase)] == phrase:
                found.add(" ".join(phrase))
    return frozenset(found)


def _numbers_in(text: str) -> frozenset[str]:
    return frozenset(w for w in _text_tokens(text) if w.isdigit() or w in _ROMAN)


def _org_marks(q: Prepared, r: Prepared) -> tuple[list[float], dict[str, str]]:
    """(place_conflict, place_extra, number_extra) of two organisations' written names."""
    pq, pr = places_in(q.text), places_in(r.text)
    only_q, only_r = pq - pr, pr - pq
    conflict = 1.0 if only_q and only_r else 0.0
    extra = 1.0 if (only_q or only_r) and not conflict else 0.0
    nq, nr = _numbers_in(q.text), _numbers_in(r.text)
    number = 1.0 if bool(nq) != bool(nr) else 0.0
    says = {
        "place_conflict": f"{', '.join(sorted(only_q))} vs {', '.join(sorted(only_r))}" if conflict else "",
        "place_extra": f"only one says {', '.join(sorted(only_q | only_r))}" if extra else "",
        "number_extra": f"only one carries {', '.join(sorted(nq | nr))}" if number else "",
    }
    return [conflict, extra, number], says


def _parent_swap(q: Prepared, r: Prepared) -> tuple[float, str]:
    """1 when the names around "bin" are swapped: a father and his son."""
    sides = []
    for p in (q, r):
        k = next((k for k, t in enumerate(p.tokens) if t in _SONS), None)
        if k is None or k == 0 or k + 1 >= len(p.tokens):
            return 0.0, ""
        sides.append((p.tokens[k - 1], p.tokens[k + 1]))
    (gq, fq), (gr, fr) = sides

    def alike(a: str, b: str) -> bool:
        return _sim(a, skeleton(a), b, skeleton(b)) >= MATCHED

    same = alike(gq, gr)
    swapped = alike(gq, fr) and alike(fq, gr)
    if swapped and not same:
        return 1.0, f"{gq} bin {fq} vs {gr} bin {fr}: son and father swapped"
    return 0.0, ""


@dataclass
class Alignment:
    pairs: list[tuple[int, int, float]]  # query token, listed token, similarity
    query_left: list[int]
    listed_left: list[int]


INITIALS = 0.9  # a short token spelling the initials of a run of the other name's tokens


def _initial_runs(
    short: Prepared, other: Prepared, left_s: set[int], left_o: set[int]
) -> list[tuple[int, list[int]]]:
    """Tokens of ``short`` (2 to 6 letters, unmatched) that spell the initials of a run of
    unmatched tokens of ``other`` ("SG" in "SG MSK" for "Strakhovaya Gruppa MSK")."""
    found: list[tuple[int, list[int]]] = []
    if len(left_o) < 2:
        return found
    for i in sorted(left_s):
        t = short.tokens[i]
        if not (2 <= len(t) <= 6 and t.isalpha()):
            continue
        run: list[int] = []
        for j in range(len(other.tokens)):
            if j not in left_o or other.tokens[j] in STOPWORDS:
                if run and j not in left_o:
                    run = []
                continue
            run.append(j)
            letters = "".join(other.native[k][0] for k in run)
            if letters == t:
                found.append((i, list(run)))
                left_o -= set(run)
                break
            if not t.startswith(letters):
                run = [j] if t.startswith(other.native[j][0]) else []
    return found


def align(q: Prepared, r: Prepared) -> Alignment:
    """Tokens paired greedily, most similar first; each token used once; then short
    unmatched tokens that spell the initials of a run of the other's unmatched tokens."""
    scored = []
    for i, (a, sa) in enumerate(zip(q.tokens, q.skeletons, strict=True)):
        for j, (b, sb) in enumerate(zip(r.tokens, r.skeletons, strict=True)):
            s = _sim(a, sa, b, sb)
            if s >= MATCHED:
                scored.append((s, -abs(i - j), i, j))
    scored.sort(reverse=True)
    used_q: set[int] = set()
    used_r: set[int] = set()
    pairs = []
    for s, _, i, j in scored:
        if i not in used_q and j not in used_r:
            used_q.add(i)
            used_r.add(j)
            pairs.append((i, j, s))
    left_q = set(range(len(q.tokens))) - used_q
    left_r = set(range(len(r.tokens))) - used_r
    for i, run in _initial_runs(q, r, set(left_q), set(left_r)):
        pairs += [(i, j, INITIALS) for j in run]
        used_q.add(i)
        used_r.update(run)
    left_r = set(range(len(r.tokens))) - used_r
    for j, run in _initial_runs(r, q, set(left_r), set(range(len(q.tokens))) - used_q):
        pairs += [(i, j, INITIALS) for i in run]
        used_r.add(j)
        used_q.update(run)
    return Alignment(
        pairs,
        [i for i in range(len(q.tokens)) if i not in used_q],
        [j for j in range(len(r.tokens)) if j not in used_r],
    )


def _first_given(p: Prepared) -> int | None:
    for i, t in enumerate(p.tokens):
        if t not in PARTICLES and t not in STOPWORDS and len(t) > 1:
            return i
    return None


def _given_conflict(q: Prepared, r: Prepared, al: Alignment) -> tuple[float, str]:
    """The first given name of the listed person is left unmatched while the subject's
    first given name matched a later part of it (or nothing), and something else agrees."""
    if len(q.tokens) < 2 or len(r.tokens) < 2 or not al.pairs:
        return 0.0, ""
    qi, ri = _first_given(q), _first_given(r)
    if qi is None or ri is None or ri not in al.listed_left:
        return 0.0, ""
    paired = dict((i, j) for i, j, _ in al.pairs)
    if paired.get(qi) == ri:
        return 0.0, ""
    others = [i for i, _, _ in al.pairs if i != qi and q.tokens[i] not in PARTICLES]
    if not others:
        return 0.0, ""
    a, b = q.tokens[qi], r.tokens[ri]
    return 1.0, f"given names differ: {a} vs {b}"


def _acronym(q: Prepared, r: Prepared, person: bool = False) -> tuple[float, str]:
    """1 when one name is the other's initialism (or both carry the same acronym); 0.5 when
    it spells all but the last initial. A person's one-word name is not taken for an acronym
    unless it is written as one ("L.T.T.E.", or in capitals)."""
    if q.acronyms & r.acronyms:
        return 1.0, f"same acronym {sorted(q.acronyms & r.acronyms)[0].upper()}"
    for a, b in ((q, r), (r, q)):
        if len(b.tokens) < 2:
            continue
        spelled = {
            b.initials,
            "".join(t[0] for t in b.native),
            "".join(t[0] for t in b.tokens if t not in STOPWORDS),
        }
        single = {a.tokens[0]} if len(a.tokens) == 1 and not person else set()
        for acronym in a.acronyms | single:
            if len(acronym) >= 2 and acronym in spelled:
                return 1.0, f"{acronym.upper()} is the initialism of {b.text!r}"
            if len(acronym) >= 3 and any(
                s.startswith(acronym) and len(s) == len(acronym) + 1 for s in spelled
            ):
                return 0.5, f"{acronym.upper()} is part of the initialism of {b.text!r}"
    return 0.0, ""


_DIGITS = re.compile(r"\d+")


def _ratio(a: str, b: str) -> float:
    return Levenshtein.normalized_similarity(a, b) if a and b else 0.0


def quick_cover(q: Prepared, r: Prepared, rarity: Callable[[str], float], person: bool = False) -> float:
    """A cheap look, for the shortlist: the rarity-weighted share of each name's tokens the
    other has (spelled alike, or with the same consonants), averaged over the two names, or
    the likeness of their consonants end to end if higher; plus 1 for an acronym."""
    shared = (set(q.tokens) | set(q.skeletons)) & (set(r.tokens) | set(r.skeletons))
    wq = [rarity(t) for t in q.tokens]
    wr = [rarity(t) for t in r.tokens]
    cq = sum(w for t, k, w in zip(q.tokens, q.skeletons, wq, strict=True) if t in shared or k in shared)
    cr = sum(w for t, k, w in zip(r.tokens, r.skeletons, wr, strict=True) if t in shared or k in shared)
    cover = (cq / (sum(wq) or 1.0) + cr / (sum(wr) or 1.0)) / 2
    joined = _ratio(q.skeleton, r.skeleton)  # names split or joined differently ("Lebachir", "El Besir")
    spelled = {q.initials} & r.acronyms or {r.initials} & q.acronyms or q.acronyms & r.acronyms
    return max(cover, joined) + (1.0 if spelled else 0.0)


def name_features(
    q: Prepared, r: Prepared, rarity: Callable[[str], float], explain: bool = False, person: bool = False
) -> tuple[list[float], dict[str, str]]:
    """The name features of one pair of names, in ``NAME_FEATURES`` order, and (when
    ``explain``) a sentence for each that says what matched."""
    al = align(q, r)
    wq = [rarity(t) for t in q.tokens]
    wr = [rarity(t) for t in r.tokens]
    best_q: dict[int, float] = {}
    best_r: dict[int, float] = {}
    for i, j, s in al.pairs:
        best_q[i] = max(best_q.get(i, 0.0), s)
        best_r[j] = max(best_r.get(j, 0.0), s)
    got_q = sum(wq[i] * s for i, s in best_q.items())
    got_r = sum(wr[j] * s for j, s in best_r.items())
    cover_q = got_q / sum(wq) if sum(wq) else 0.0
    cover_r = got_r / sum(wr) if sum(wr) else 0.0
    similarity = sum(s for _, _, s in al.pairs) / len(al.pairs) if al.pairs else 0.0
    rare = max((min(wq[i], wr[j]) * s for i, j, s in al.pairs), default=0.0)
    left_q = max((wq[i] for i in al.query_left), default=0.0)
    left_r = max((wr[j] for j in al.listed_left), default=0.0)
    joined = max(_ratio(q.joined, r.joined), _ratio("".join(sorted(q.tokens)), "".join(sorted(r.tokens))))
    skel = max(
        _ratio(q.skeleton, r.skeleton), _ratio("".join(sorted(q.skeletons)), "".join(sorted(r.skeletons)))
    )
    if min(len(q.skeleton), len(r.skeleton)) < 4:  # three consonants or fewer say little on their own
        skel = min(skel, joined)
    acronym, acronym_says = _acronym(q, r, person)
    conflict, conflict_says = _given_conflict(q, r, al)
    nq, nr = set(_DIGITS.findall(q.joined)), set(_DIGITS.findall(r.joined))
    numbers = 1.0 if nq and nr and nq != nr else 0.0
    forms = 1.0 if q.org_forms and r.org_forms and not (q.org_forms & r.org_forms) else 0.0
    cross = 1.0 if (q.scripts - {"Latin"}) != (r.scripts - {"Latin"}) else 0.0
    weak = max(((min(wq[i], wr[j]) * (1 - s), i, j) for i, j, s in al.pairs), default=(0.0, 0, 0))
    swap, swap_says = _parent_swap(q, r) if person else (0.0, "")
    marks, marks_says = _org_marks(q, r) if not person else ([0.0, 0.0, 0.0], {})
    values = [
        cover_q, cover_r, similarity, rare, left_q, left_r, joined, skel, acronym, conflict, numbers, forms,
        cross, float(min(len(q.tokens), 8)), float(min(len(r.tokens), 8)),
        float(min(len(q.skeleton), len(r.skeleton), 12)), weak[0], swap, *marks,
    ]  # fmt: skip
    if not explain:
        return values, {}
    pairs = ", ".join(
        f"{q.tokens[i]}{'=' if s == 1 else '≈'}{r.tokens[j]}" + ("" if s == 1 else f" {s:.2f}")
        for i, j, s in sorted(al.pairs)
    )
    says = {
        "cover_query": f"{pairs} (rarity-weighted share of {q.text!r})" if pairs else "",
        "cover_listed": f"of {r.text!r}" if pairs else "",
        "rare_shared": f"rarest shared part {max(al.pairs, key=lambda p: min(wq[p[0]], wr[p[1]]))[0:2]}"
        if al.pairs
        else "",
        "unmatched_query": ", ".join(q.tokens[i] for i in al.query_left),
        "unmatched_listed": ", ".join(r.tokens[j] for j in al.listed_left),
        "joined": f"{q.joined} / {r.joined}",
        "skeleton": f"{q.skeleton} / {r.skeleton}",
        "acronym": acronym_says,
        "given_name_conflict": conflict_says,
        "number_conflict": f"numbers {sorted(nq)} vs {sorted(nr)}" if numbers else "",
        "legal_form_conflict": f"{sorted(q.org_forms)} vs {sorted(r.org_forms)}" if forms else "",
        "cross_script": f"{'/'.join(sorted(q.scripts))} vs {'/'.join(sorted(r.scripts))}" if cross else "",
        "rare_weak": f"{q.tokens[weak[1]]}≈{r.tokens[weak[2]]}" if weak[0] else "",
        "parent_swap": swap_says,
        **marks_says,
    }
    if says["rare_shared"]:
        i, j = max(al.pairs, key=lambda p: min(wq[p[0]], wr[p[1]]))[0:2]
        says["rare_shared"] = f"{q.tokens[i]}/{r.tokens[j]}, rarity {min(wq[i], wr[j]):.2f}"
    return values, says


@dataclass(frozen=True)
class Fields:
    """A record's fields other than names, normalised for comparison."""

    birth_dates: tuple[str, ...] = ()  # ISO: YYYY, YYYY-MM or YYYY-MM-DD
    countries: tuple[str, ...] = ()  # ISO alpha-2, lower case
    identifiers: tuple[str, ...] = ()  # letters and digits only, upper case

    @staticmethod
    def identifier(value: str) -> str:
        """An identifier's number without its label ("Passport: A123" -> "A123")."""
        return re.sub(r"[^0-9A-Z]", "", value.rsplit(":", 1)[-1].upper())


def _dates(a: Iterable[str], b: Iterable[str]) -> tuple[float, float, str]:
    a, b = [d for d in a if d], [d for d in b if d]
    if not a or not b:
        return 0.0, 0.0, ""
    years_a, years_b = {d[:4] for d in a}, {d[:4] for d in b}
    if not years_a & years_b:
        return 0.0, 1.0, f"born {'/'.join(sorted(years_a))} vs {'/'.join(sorted(years_b))}"
    full = {d for d in a if len(d) == 10} & {d for d in b if len(d) == 10}
    if full:
        return 1.0, 0.0, f"same date of birth {sorted(full)[0]}"
    days_a, days_b = {d for d in a if len(d) == 10}, {d for d in b if len(d) == 10}
    if days_a and days_b and {d[:4] for d in days_a} & {d[:4] for d in days_b}:
        return 0.5, 0.5, f"same year, different day: {sorted(days_a)[0]} vs {sorted(days_b)[0]}"
    return 0.7, 0.0, f"same year of birth {sorted(years_a & years_b)[0]}"


def field_features(query: Fields, listed: Fields, person: bool) -> tuple[list[float], dict[str, str]]:
    """The field features in ``FIELD_FEATURES`` order, with what each found."""
    dob_agree, dob_conflict, dob_says = _dates(query.birth_dates, listed.birth_dates)
    qc, lc = set(query.countries), set(listed.countries)
    country_agree = 1.0 if qc & lc else 0.0
    country_conflict = 1.0 if qc and lc and not qc & lc else 0.0
    qi = {i for i in query.identifiers if len(i) >= 4}
    shared = qi & {i for i in listed.identifiers if len(i) >= 4}
    values = [
        dob_agree, dob_conflict, country_agree, country_conflict, 1.0 if shared else 0.0,
        1.0 if person else 0.0,
    ]  # fmt: skip
    says = {
        "dob_agree": dob_says if dob_agree else "",
        "dob_conflict": dob_says if dob_conflict else "",
        "country_agree": f"{', '.join(sorted(qc & lc)).upper()}" if country_agree else "",
        "country_conflict": f"{', '.join(sorted(qc)).upper()} vs {', '.join(sorted(lc)).upper()}"
        if country_conflict
        else "",
        "identifier_match": f"same identifier {sorted(shared)[0]}" if shared else "",
    }
    return values, says
