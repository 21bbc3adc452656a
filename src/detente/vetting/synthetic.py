"""Synthetic name pairs for training the learned matcher: names perturbed the way lists,
transliterators and clerks perturb them (positives), and names that look alike but are
other people and bodies (negatives).

The seeds are entities from sources that are never scored (the analysis script picks them:
entries delisted before the lists it scores, and names from other open data), so no pair a
figure is measured on is made from the same entity. Every transformation is generic: none
names a particular person or body.

Positives: respellings of transliteration (``ou``/``u``, ``kh``/``h``, ``q``/``k``, doubled
letters, ``al-``/``el-``), another script (Cyrillic by ICU, Arabic letters by a table),
reordering ("SURNAME, Given"), middle names dropped or cut to initials, honorifics,
nicknames, typing errors, words joined or split, acronyms and legal forms for bodies.
Real aliases: up to two of the seed's own listed aliases against its primary name (a translation, a
former name, a short form), as the lists themselves pair them.
Negatives: another entity sharing a name part, a relative (the same family name, another
given name), a body with one word changed, another body's acronym. Dates of birth and
countries come with some pairs, as screening subjects and listed entries carry them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from detente.vetting.evaluate import Pair
from detente.vetting.names import HONORIFICS, NICKNAMES, PARTICLES, STOPWORDS, prepare

__all__ = ["Seed", "generate"]


@dataclass(frozen=True)
class Seed:
    """An entity to perturb: its schema, names (the first is the primary), dates, countries."""

    schema: str
    names: tuple[str, ...]
    birth_dates: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    @property
    def person(self) -> bool:
        return self.schema == "Person"


RESPELL = (
    ("ou", "u"), ("u", "ou"), ("o", "u"), ("u", "o"), ("e", "i"), ("i", "e"), ("ee", "i"), ("y", "i"),
    ("i", "y"), ("kh", "h"), ("h", "kh"), ("q", "k"), ("k", "q"), ("j", "dj"), ("dj", "j"), ("ph", "f"),
    ("v", "w"), ("w", "v"), ("sh", "ch"), ("ch", "sh"), ("a", "e"), ("e", "a"), ("mm", "m"), ("m", "mm"),
    ("dd", "d"), ("ss", "s"), ("s", "ss"), ("ll", "l"), ("l", "ll"), ("tt", "t"), ("aa", "a"), ("x", "ks"),
    ("ks", "x"), ("c", "k"), ("zh", "j"), ("gh", "g"), ("iy", "i"), ("ie", "y"), ("ov", "off"), ("z", "s"),
)  # fmt: skip
_LATIN_ARABIC = {
    "sh": "ش", "kh": "خ", "th": "ث", "dh": "ذ", "gh": "غ", "ch": "چ", "b": "ب", "t": "ت", "j": "ج",
    "h": "ح", "d": "د", "r": "ر", "z": "ز", "s": "س", "f": "ف", "q": "ق", "k": "ك", "l": "ل", "m": "م",
    "n": "ن", "w": "و", "y": "ي", "p": "پ", "g": "ج", "v": "و", "a": "ا", "i": "ي", "u": "و", "o": "و",
    "e": "", "c": "ك", "x": "كس",
}  # fmt: skip
_ORG_FORMS = (
    "LLC", "Ltd", "Limited", "Company", "Co.", "Inc.", "Corporation", "JSC", "OOO", "AO", "S.A.", "GmbH",
    "Limited Liability Company", "Joint Stock Company", "Trading Company", "Group",
)  # fmt: skip
_SHORT = {full: short for short, full in NICKNAMES.items()}
_ARABIC_HINT = frozenset(
    [
        "al",
        "el",
        "bin",
        "ibn",
        "abu",
        "abd",
        "abdul",
        "muhammad",
        "mohammed",
        "mohamed",
        "ahmad",
        "ahmed",
        "ali",
        "hassan",
    ]
)


def _respell(token: str, rng: np.random.Generator) -> str:
    options = [(a, b) for a, b in RESPELL if a in token.lower()]
    if not options:
        return token
    a, b = options[int(rng.integers(len(options)))]
    low = token.lower()
    at = [m.start() for m in re.finditer(re.escape(a), low)]
    i = at[int(rng.integers(len(at)))]
    out = low[:i] + b + low[i + len(a) :]
    return out.upper() if token.isupper() else out.capitalize() if token[:1].isupper() else out


def _typo(token: str, rng: np.random.Generator) -> str:
    if len(token) < 4:
        return token
    i = int(rng.integers(1, len(token) - 1))
    kind = int(rng.integers(4))
    letter = "aeionrstlh"[int(rng.integers(10))]
    if kind == 0:
        return token[:i] + letter + token[i + 1 :]
    if kind == 1:
        return token[:i] + token[i + 1 :]
    if kind == 2:
        return token[:i] + token[i] + token[i:]
    return token[: i - 1] + token[i] + token[i - 1] + token[i + 1 :]


def _cyrillic(name: str) -> str:
    import icu  # type: ignore[import-untyped]

    return str(icu.Transliterator.createInstance("Latin-Cyrillic").transliterate(name.title()))


def _arabic(name: str) -> str:
    words = []
    for word in re.split(r"[\s,\-]+", name.lower()):
        if not word:
            continue
        if word in ("al", "el"):
            words.append("ال")
            continue
        if word in ("bin", "ibn", "ben"):
            words.append("بن")
            continue
        out, i = [], 0
        while i < len(word):
            two = word[i : i + 2]
            if two in _LATIN_ARABIC:
                out.append(_LATIN_ARABIC[two])
                i += 2
                continue
            ch = word[i]
            # short vowels inside a word are not written
            if ch in "aeiou" and 0 < i < len(word) - 1 and not (i + 1 < len(word) and word[i + 1] == ch):
                i += 1
                continue
            out.append(_LATIN_ARABIC.get(ch, ""))
            i += 1
        words.append("".join(out))
    joined = " ".join(words).replace("ال ", "ال")
    return joined


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s]+", name.strip()) if t]


def _person_variant(name: str, rng: np.random.Generator) -> str:
    if "," in name:
        family, given = (p.strip() for p in name.split(",", 1))
        name = f"{given} {family}"
    tokens = _tokens(name)
    kinds = ["respell", "respell", "reorder", "comma", "typo", "case", "join", "honorific", "cyrillic"]
    if len(tokens) >= 3:
        kinds += ["drop_middle", "initials", "drop_middle"]
    if any(t.lower().strip("-") in _ARABIC_HINT for t in tokens) or rng.random() < 0.15:
        kinds += ["arabic", "arabic", "article"]
    if tokens and tokens[0].lower() in _SHORT:
        kinds.append("nickname")
    out = list(tokens)
    for kind in rng.choice(kinds, size=int(rng.integers(1, 3)), replace=False):
        if kind == "respell" and out:
            i = int(rng.integers(len(out)))
            out[i] = _respell(out[i], rng)
        elif kind == "reorder" and len(out) > 1:
            out = [out[-1], *out[:-1]]
        elif kind == "comma" and len(out) > 1:
            out = [out[-1].upper() + ",", *out[:-1]]
        elif kind == "typo" and out:
            i = int(rng.integers(len(out)))
            out[i] = _typo(out[i], rng)
        elif kind == "case":
            out = [t.upper() if rng.random() < 0.5 else t.lower() for t in out]
        elif kind == "join" and len(out) > 1:
            i = int(rng.integers(len(out) - 1))
            out[i : i + 2] = [out[i] + out[i + 1].lower()]
        elif kind == "honorific":
            out.insert(0, sorted(HONORIFICS)[int(rng.integers(len(HONORIFICS)))].title())
        elif kind == "drop_middle" and len(out) >= 3:
            out = [out[0], out[-1]]
        elif kind == "initials" and len(out) >= 3:
            out = [out[0], *[t[0] + "." for t in out[1:-1]], out[-1]]
        elif kind == "nickname" and out and out[0].lower() in _SHORT:
            out[0] = _SHORT[out[0].lower()].title()
        elif kind == "article":
            out = [re.sub(r"^(?i:al|el)-", ("el-", "al-", "")[int(rng.integers(3))], t) for t in out]
        elif kind in ("cyrillic", "arabic"):
            return _cyrillic(" ".join(out)) if kind == "cyrillic" else _arabic(" ".join(out))
    return " ".join(out)


def _org_variant(name: str, rng: np.random.Generator) -> str:
    prepared = prepare(name, person=False)
    kinds = ["respell", "typo", "case", "form", "form", "stopwords"]
    if len([t for t in prepared.tokens if t not in STOPWORDS]) >= 2:
        kinds += ["acronym", "acronym", "acronym"]
    if rng.random() < 0.2:
        kinds.append("cyrillic")
    kind = kinds[int(rng.integers(len(kinds)))]
    tokens = _tokens(name)
    if kind == "acronym":
        letters = prepared.initials.upper()
        if rng.random() < 0.3:
            letters = ".".join(letters) + "."
        return letters if rng.random() < 0.8 else f"{letters} {_ORG_FORMS[int(rng.integers(5))]}"
    if kind == "form":
        bare = " ".join(t for t in tokens if prepare(t, person=False).org_forms == frozenset() and t)
        form = _ORG_FORMS[int(rng.integers(len(_ORG_FORMS)))]
        return f"{form} {bare}" if rng.random() < 0.4 else f"{bare} {form}"
    if kind == "stopwords":
        kept = [t for t in tokens if t.lower() not in STOPWORDS]
        return " ".join(kept) if kept else name
    if kind == "cyrillic":
        return _cyrillic(name)
    if kind == "case":
        return name.lower() if rng.random() < 0.5 else name.title()
    i = int(rng.integers(len(tokens))) if tokens else 0
    if tokens:
        tokens[i] = _respell(tokens[i], rng) if kind == "respell" else _typo(tokens[i], rng)
    return " ".join(tokens)


def _fields(rng: np.random.Generator, query: Seed, listed: Seed) -> dict[str, str]:
    """Dates and countries as a subject and a listed entry might carry them: the subject's
    are its own entity's (equal to the listed ones for a positive), now and then wrong."""
    out: dict[str, str] = {}
    if listed.birth_dates and rng.random() < 0.35:
        out["dob2"] = listed.birth_dates[0]
        if query.birth_dates:
            mine = query.birth_dates[int(rng.integers(len(query.birth_dates)))]
            out["dob1"] = mine[:4] if rng.random() < 0.4 else mine
            if query is listed and rng.random() < 0.03:  # a clerk's error
                out["dob1"] = str(int(mine[:4]) + int(rng.integers(2, 12)))
    if listed.countries and rng.random() < 0.3:
        out["country2"] = listed.countries[0]
        if query.countries:
            out["country1"] = query.countries[0]
    return out


def _first_given(name: str) -> int | None:
    """The position of the first given name, past kinship words ("Abu Salim": 1)."""
    tokens = _tokens(name.split(",", 1)[1] if "," in name else name)
    return next((i for i, t in enumerate(tokens) if t.lower() not in PARTICLES), None)


def generate(seeds: Sequence[Seed], seed: int = 20240926, group: str = "synthetic") -> list[Pair]:
    """About two positive and two negative pairs per seed entity."""
    rng = np.random.default_rng(seed)
    by_token: dict[str, list[int]] = defaultdict(list)
    for k, s in enumerate(seeds):
        for t in set(prepare(s.names[0], s.person).tokens):
            if t not in STOPWORDS and t not in PARTICLES and len(t) > 2:
                by_token[t].append(k)
    givens = [
        prepare(s.names[0], True).tokens[0] for s in seeds if s.person and prepare(s.names[0], True).tokens
    ]
    pairs: list[Pair] = []

    def add(schema: str, a: str, b: str, match: bool, q: Seed, r: Seed) -> None:
        if not (a.strip() and b.strip() and a != b):
            return
        fields = _fields(rng, q, r)
        if rng.random() < 0.5:  # either side may be the longer, the other script, the variant
            a, b = b, a
            fields = {k[:-1] + ("2" if k.endswith("1") else "1"): v for k, v in fields.items()}
        pairs.append(Pair(schema, a, b, match, group, **fields))

    for k, s in enumerate(seeds):
        schema = s.schema
        for _ in range(2):
            listed = s.names[int(rng.integers(len(s.names)))] if rng.random() < 0.3 else s.names[0]
            variant = _person_variant(listed, rng) if s.person else _org_variant(listed, rng)
            add(schema, variant, listed, True, s, s)
        if len(s.names) >= 2:  # the seed's own aliases, as listed (two at most)
            before = len(pairs)
            for alias in rng.permutation(np.array(s.names[1:], dtype=object))[:2]:
                add(schema, str(alias), s.names[0], True, s, s)
            pairs[before:] = [replace(p, group=f"{group} alias") for p in pairs[before:]]
        tokens = prepare(s.names[0], s.person).tokens
        near = sorted(
            {j for t in tokens for j in by_token.get(t, ()) if j != k and seeds[j].schema == schema}
        )
        if near:
            j = near[int(rng.integers(len(near)))]
            other = seeds[j].names[0]
            query = _person_variant(other, rng) if s.person and rng.random() < 0.3 else other
            add(schema, query, s.names[0], False, seeds[j], s)
        at = _first_given(s.names[0])
        if s.person and at is not None and len(_tokens(s.names[0])) >= 2 and givens:
            name = s.names[0]
            family, given = name.split(",", 1) if "," in name else (None, name)
            parts = _tokens(given)
            new = _other_given(parts[at], givens, rng)
            if new and prepare(new, True).skeletons != prepare(parts[at], True).skeletons:
                parts[at] = new
                relative = f"{family}, {' '.join(parts)}" if family else " ".join(parts)
                if rng.random() < 0.3:
                    relative = _cyrillic(relative) if rng.random() < 0.5 else _arabic(relative)
                add(schema, relative, name, False, Seed(schema, (relative,)), s)
        elif not s.person:
            j = int(rng.integers(len(seeds)))
            body = seeds[j]
            if body.schema == schema and j != k:
                mine = prepare(s.names[0], False)
                theirs = prepare(body.names[0], False)
                if len(theirs.initials) >= 2 and theirs.initials != mine.initials:
                    add(schema, theirs.initials.upper(), s.names[0], False, body, s)
        if s.person and rng.random() < 0.8:
            _father(s, rng, add)
        if s.person and rng.random() < 0.3:
            _one_word(s, rng, add)
        if s.person and s.birth_dates and rng.random() < 0.7:
            _namesake(s, rng, pairs, group)
        j = int(rng.integers(len(seeds)))
        if j != k:
            add(schema, seeds[j].names[0], s.names[0], False, seeds[j], s)
    return _balance_scripts(pairs, rng)


def _other_given(given: str, givens: list[str], rng: np.random.Generator) -> str:
    """Another given name for a relative; half the time one that looks alike (John and Jane,
    Daniel and Donald), which only the given name's agreement tells apart."""
    from rapidfuzz.distance import Levenshtein

    if rng.random() < 0.5:
        for _ in range(30):
            other = givens[int(rng.integers(len(givens)))]
            if 0.4 <= Levenshtein.normalized_similarity(other, given.lower()) < 0.8:
                return other.title()
    return givens[int(rng.integers(len(givens)))].title()


def _father(s: Seed, rng: np.random.Generator, add: Any) -> None:
    """A relative named in the person's own full name: "Hamza Usama Muhammad bin Laden" is
    Hamza, son of Usama son of Muhammad; "Usama bin Laden" is not him. The name without its
    first given name (the father's, with the family name) is a negative."""
    name = s.names[0]
    family, given = (p.strip() for p in name.split(",", 1)) if "," in name else ("", name)
    parts = _tokens(given)
    if family:
        parts.append(family)
    if len(parts) < 3:
        return
    rest = parts[1:]
    while rest and rest[0].lower() in PARTICLES:
        rest = rest[1:]
    if len(rest) < 2:
        return
    father = " ".join(rest) if rng.random() < 0.5 else f"{rest[0]} {parts[-1]}"
    if rng.random() < 0.3:
        father = _arabic(father) if rng.random() < 0.5 else _cyrillic(father)
    add(s.schema, father, name, False, Seed(s.schema, (father,)), s)


def _one_word(s: Seed, rng: np.random.Generator, add: Any) -> None:
    """Someone else listed under one word of the person's name (a one-word alias, as lists
    give nicknames): one shared word is not a match."""
    words = [t for t in _tokens(s.names[0].replace(",", " ")) if t.lower() not in PARTICLES and len(t) > 2]
    if len(words) >= 2:
        word = words[int(rng.integers(len(words)))].strip(",").title()
        listed = _respell(word, rng) if rng.random() < 0.5 else word
        add(s.schema, s.names[0], listed, False, s, Seed(s.schema, (listed,)))


def _namesake(s: Seed, rng: np.random.Generator, pairs: list[Pair], group: str) -> None:
    """Someone else of the same name, born years apart (a namesake or a relative named after
    him), now and then of another nationality too: the dates, not the name, tell them apart."""
    listed = s.names[0]
    query = listed if rng.random() < 0.5 else _person_variant(listed, rng)
    year = int(s.birth_dates[0][:4]) + int(rng.choice([-1, 1])) * int(rng.integers(8, 35))
    fields = {"dob1": str(year), "dob2": s.birth_dates[0]}
    if s.countries and rng.random() < 0.4:
        fields.update(country1="USA" if s.countries[0] != "USA" else "GBR", country2=s.countries[0])
    if query != listed:
        pairs.append(Pair(s.schema, query, listed, False, group, **fields))


def _latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


def _balance_scripts(pairs: list[Pair], rng: np.random.Generator) -> list[Pair]:
    """As many negatives as positives compare names written in different scripts, so that
    the model does not learn that another script means the same person."""
    positives = [p for p in pairs if p.is_match]
    cross = sum(not (_latin(p.name1) and _latin(p.name2)) for p in positives) / max(len(positives), 1)
    negatives = [p for p in pairs if not p.is_match]
    already = sum(not (_latin(p.name1) and _latin(p.name2)) for p in negatives) / max(len(negatives), 1)
    rate = max(0.0, cross - already) / max(1.0 - already, 1e-9)
    out = []
    for p in pairs:
        if not p.is_match and _latin(p.name1) and _latin(p.name2) and rng.random() < rate:
            arabic = any(t.lower().strip("-") in _ARABIC_HINT for t in _tokens(p.name1))
            p = replace(p, name1=_arabic(p.name1) if arabic and rng.random() < 0.6 else _cyrillic(p.name1))
        out.append(p)
    return out
