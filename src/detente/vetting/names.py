"""Names made comparable across scripts, spellings and forms: the learned matcher's and the
candidate index's view of a name.

``prepare`` turns a name into Latin tokens in a person's given-then-family order:

* script-aware transliteration: Arabic, Persian, Urdu and Pashto letters by a table that keeps
  long vowels and splits the article (``الحسين`` -> ``al husin``), Chinese characters to pinyin
  syllables joined as names are written in Latin (``习近平`` -> ``xi jinping``), Cyrillic, Greek,
  Hangul and the rest by ICU through ``rigour``;
* honorifics and titles dropped ("Dr", "Sheikh", "Haji", "Mullah", "General"), organisation
  legal forms normalised (``OOO``, ``LLC`` and "Limited Liability Company" alike) by ``rigour``;
* "SURNAME, Given" (OFAC's order) turned to "Given SURNAME";
* every token's consonant skeleton, with the consonant classes that transliterations of one
  sound share (``Usama``, ``Osama`` and ``أسامة`` are all ``sm``; ``Qaddafi`` and ``Gadhafi``
  are ``kdf`` and ``gdf``, one letter apart);
* initials (``Liberation Tigers of Tamil Eelam`` -> ``ltte``) and acronyms the name spells or
  carries in brackets (``(KTJ)``);
* common nicknames and their full forms (``bill`` = ``william``), a small general table.

Everything here is deterministic and cached per name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Prepared", "canonical", "prepare", "romanize", "skeleton"]

# ------------------------------------------------------------------ Arabic-script letters
_ARABIC = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ء": "", "ؤ": "u", "ئ": "i", "ب": "b", "ت": "t",
    "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s",
    "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "q",
    "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "u", "ي": "i", "ى": "a", "ة": "a",
    # Persian, Urdu, Pashto
    "پ": "p", "چ": "ch", "ژ": "zh", "گ": "g", "ک": "k", "ی": "i", "ۀ": "a", "ە": "a", "ٹ": "t",
    "ڈ": "d", "ڑ": "r", "ں": "n", "ھ": "h", "ہ": "h", "ۃ": "a", "ے": "e", "ټ": "t", "ډ": "d", "ړ": "r",
    "ږ": "zh", "ښ": "sh", "ځ": "dz", "څ": "ts", "ڼ": "n", "ې": "e", "ۍ": "ai", "ﺁ": "a", "ﻻ": "la",
}  # fmt: skip
_ARABIC_WORDS = {
    "بن": "bin", "ابن": "ibn", "بنت": "bint", "ابو": "abu", "أبو": "abu", "ابي": "abi", "أبي": "abi",
    "الله": "allah", "عبد": "abd", "عبدالله": "abdallah", "عبيد": "ubayd",
}  # fmt: skip
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # vowel signs, tatweel
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# ------------------------------------------------------------------ tables
HONORIFICS = frozenset(
    [
        "mr", "mrs", "ms", "miss", "mister", "dr", "doctor", "prof", "professor", "sir", "dame", "lord",
        "lady", "sheikh", "shaikh", "shaykh", "sheik", "haji", "hajji", "hadji", "alhaj", "alhajj", "hajj",
        "mullah", "mulla", "maulvi", "mawlawi", "moulvi", "maulana", "mawlana", "qari", "hafiz", "imam",
        "ayatollah", "hojatoleslam", "sayyid", "sayed", "sayyed", "seyed", "seyyed", "syed", "gen",
        "general", "col", "colonel", "maj",
        "major", "capt", "captain", "lt", "lieutenant", "brig", "brigadier", "cmdr", "commander", "adm",
        "admiral", "sgt", "sergeant", "eng", "engineer", "his", "her", "excellency", "hon", "honourable",
        "honorable", "rev", "reverend", "father", "fr", "amir", "emir"
    ]
)  # fmt: skip
# common short forms of given names and the full form they stand for (a general table)
NICKNAMES = {
    "bill": "william", "will": "william", "billy": "william", "bob": "robert", "rob": "robert",
    "bobby": "robert", "jim": "james", "jimmy": "james", "mike": "michael", "mick": "michael",
    "dick": "richard", "rick": "richard", "rich": "richard", "tom": "thomas", "tommy": "thomas",
    "tony": "anthony", "joe": "joseph", "jack": "john", "johnny": "john", "dave": "david",
    "steve": "stephen", "steven": "stephen", "chris": "christopher", "dan": "daniel", "danny": "daniel",
    "ed": "edward", "ted": "edward", "eddie": "edward", "fred": "frederick", "greg": "gregory",
    "harry": "henry", "hank": "henry", "ken": "kenneth", "larry": "lawrence", "matt": "matthew",
    "nick": "nicholas", "pat": "patrick", "pete": "peter", "ron": "ronald", "sam": "samuel",
    "andy": "andrew", "alex": "alexander", "sasha": "alexander", "sacha": "alexander", "kate": "katherine",
    "liz": "elizabeth", "beth": "elizabeth", "betty": "elizabeth", "peggy": "margaret", "meg": "margaret",
    "sue": "susan", "jenny": "jennifer", "pepe": "jose", "chuy": "jesus", "paco": "francisco",
    "pancho": "francisco", "nacho": "ignacio", "lupe": "guadalupe", "memo": "guillermo", "beto": "alberto",
    "toni": "antonio", "volodya": "vladimir", "misha": "mikhail", "kolya": "nikolai", "seryozha": "sergei",
    "dima": "dmitry", "vanya": "ivan", "zhenya": "yevgeny", "yura": "yuri", "lyosha": "aleksei",
    "hamid": "abdulhamid", "aziz": "abdulaziz",
}  # fmt: skip
# words of organisation names in other languages (as lists transliterate them) and their
# English form: a general table, so that a translated alias meets the original
ORG_WORDS = {
    # Russian, transliterated
    "zavod": "plant", "kombinat": "plant", "obedinenie": "association", "obyedinenie": "association",
    "obedinennaya": "united", "obiedinennaya": "united", "obyedinennaya": "united", "kompaniya": "company",
    "gruppa": "group", "tsentr": "center", "institut": "institute", "nauchno": "scientific",
    "nauchnoe": "scientific", "proizvodstvennoe": "production", "proizvodstvennaya": "production",
    "strakhovaya": "insurance", "upravlenie": "management", "finansovye": "financial",
    "finansovaya": "financial", "tekhnologii": "technologies", "novye": "new", "gosudarstvennoe": "state",
    "gosudarstvennaya": "state", "federalnoe": "federal", "federalnaya": "federal", "kontsern": "concern",
    "korporatsiya": "corporation", "promyshlennaya": "industrial", "aviatsionnoe": "aviation",
    "eksperimentalny": "experimental", "oborudovanie": "equipment", "sistemy": "systems",
    "elektronika": "electronics", "mezhdunarodny": "international", "mezhdunarodnaya": "international",
    "torgovy": "trading", "torgovaya": "trading", "investitsionnaya": "investment", "agentstvo": "agency",
    "ministerstvo": "ministry", "sluzhba": "service", "fond": "fund", "razvitiya": "development",
    # Spanish, Portuguese, Italian
    "empresa": "company", "compania": "company", "companhia": "company", "sociedad": "company",
    "grupo": "group", "banco": "bank", "centro": "center", "instituto": "institute",
    "internacional": "international", "nacional": "national", "comercial": "trading",
    "comercializadora": "trading", "inversiones": "investments", "construcciones": "construction",
    "fundacion": "foundation", "asociacion": "association", "servicios": "services",
    "industrias": "industries", "ejercito": "army", "frente": "front", "movimiento": "movement",
    "partido": "party", "fuerzas": "forces",
    # French, German
    "societe": "company", "groupe": "group", "banque": "bank", "centre": "center", "fondation": "foundation",
    "compagnie": "company", "internationale": "international", "nationale": "national",
    "mouvement": "movement", "armee": "army", "gesellschaft": "company", "stiftung": "foundation",
    "verein": "association", "gruppe": "group",
    # Arabic and Persian, transliterated
    "sharikat": "company", "sharika": "company", "sherkat": "company", "shirkat": "company",
    "muassasat": "foundation", "muassasa": "foundation", "jamiyat": "association", "jamiat": "association",
    "harakat": "movement", "haraka": "movement", "jabhat": "front", "jabha": "front", "hizb": "party",
    "masraf": "bank", "majlis": "council", "jaish": "army", "jaysh": "army", "katibat": "brigade",
    "kataib": "brigades", "liwa": "brigade", "tanzim": "organization", "munazzamat": "organization",
    "munazzama": "organization", "sazman": "organization", "bonyad": "foundation", "vezarat": "ministry",
    "markaz": "center", "sanaye": "industries", "gostaresh": "development",
    # English spellings
    "organisation": "organization", "intl": "international", "natl": "national", "corp": "corporation",
    "co": "company",
}  # fmt: skip
STOPWORDS = frozenset(
    [
        "a", "al", "el", "and", "as", "at", "by", "da", "das", "de", "del", "della", "der", "des", "di",
        "do", "dos", "du", "e", "et", "for", "in", "la", "las", "le", "les", "los", "of", "on", "or", "the",
        "to", "ul", "und", "van", "von", "y", "wa", "wal"
    ]
)  # fmt: skip
# kinship words in Arabic names
PARTICLES = frozenset(["bin", "ibn", "bint", "abu", "abou", "abi", "ben", "ould", "umm"])

_SPLIT = re.compile(r"[^a-z0-9]+")
_BRACKETED = re.compile(r"\(([^)]{2,12})\)")


def _arabic_word(word: str) -> list[str]:
    word = _ARABIC_MARKS.sub("", word)
    if word in _ARABIC_WORDS:
        return [_ARABIC_WORDS[word]]
    if word.startswith("عبدال") and len(word) > 6:  # "Abd al-Karim" written as one word
        return ["abd", *_arabic_word(word[3:])]
    out: list[str] = []
    if word.startswith("ال") and len(word) > 3:
        out.append("al")
        word = word[2:]
    latin = []
    for i, ch in enumerate(word):
        if ch == "و" and i == 0:
            latin.append("w")
        elif ch == "ع" and i == 0:  # a word's first ayn is written as its vowel: Abd, Ali, Omar
            latin.append("a")
        elif ch in ("ي", "ی") and i == 0:
            latin.append("y")
        else:
            latin.append(_ARABIC.get(ch, ch))
    out.append("".join(latin))
    return out


def _arabic(text: str) -> str:
    text = text.replace("\u200c", "")  # Persian zero-width non-joiner joins a word's parts
    words: list[str] = []
    for word in text.split():
        if _ARABIC_LETTER.search(word):
            words.extend(_arabic_word(word))
        else:
            words.append(word)
    return " ".join(words)


@lru_cache(maxsize=4096)
def _han_latin() -> object:
    import icu  # type: ignore[import-untyped]

    return icu.Transliterator.createInstance("Han-Latin/Names; Latin-ASCII")


def _han(text: str) -> str:
    """Chinese characters to pinyin, written as a name is in Latin: the family name, then
    the given name as one word (``习近平`` -> ``xi jinping``)."""
    words = []
    for word in text.split():
        if not _HAN.search(word):
            words.append(word)
            continue
        syllables = _han_latin().transliterate(word).split()  # type: ignore[attr-defined]
        words.extend([syllables[0], "".join(syllables[1:])] if len(syllables) > 1 else syllables)
    return " ".join(w for w in words if w)


@lru_cache(maxsize=200_000)
def romanize(text: str) -> str:
    """The name in lower-case ASCII, each script by its own rules."""
    from rigour.text.translit import ascii_text

    if _ARABIC_LETTER.search(text):
        text = _arabic(text)
    if _HAN.search(text):
        text = _han(text)
    return (ascii_text(text) or "").lower()


_DIGRAPHS = (
    ("sch", "s"), ("kh", "k"), ("gh", "g"), ("sh", "s"), ("ch", "c"), ("th", "t"), ("dh", "d"),
    ("zh", "j"), ("dj", "j"), ("dz", "j"), ("ph", "f"), ("ck", "k"), ("ts", "c"), ("tz", "c"),
    ("ks", "x"),
)  # fmt: skip
_CLASSES = str.maketrans({"q": "k", "c": "k", "v": "f", "x": "ks", "g": "j", "z": "s"})
_DROP = re.compile(r"[aeiouyw]")


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """The consonants of a Latin token, by the classes transliterations confuse: vowels and
    the semivowels ``w``/``y`` dropped, ``kh``/``k``/``q``/``c`` alike, doubled letters once,
    a final ``h`` dropped (``Abdullah``/``Abdulla``)."""
    t = token.lower()
    if len(t) > 2 and t.endswith("h"):
        t = t[:-1]
    for a, b in _DIGRAPHS:
        t = t.replace(a, b)
    t = _DROP.sub("", t.translate(_CLASSES))
    return re.sub(r"(.)\1+", r"\1", t)


def canonical(token: str) -> str:
    """A given name's full form if the token is a common short form of it."""
    return NICKNAMES.get(token, token)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One name, ready to compare."""

    text: str
    tokens: tuple[str, ...]  # Latin, lower case, given names first for people
    skeletons: tuple[str, ...]
    initials: str  # first letters of the tokens that are not stopwords
    acronyms: frozenset[str]  # acronyms the name is or carries: "ltte", "ktj"
    scripts: frozenset[str]
    org_forms: frozenset[str]  # the legal forms found (llc, jsc, ...), compared apart
    native: tuple[str, ...] = ()  # the tokens before organisation words were translated

    @property
    def joined(self) -> str:
        return "".join(self.tokens)

    @property
    def skeleton(self) -> str:
        return "".join(self.skeletons)

    @property
    def acronym_like(self) -> bool:
        """A single short token that could be an acronym (``LTTE``, ``L.T.T.E.``)."""
        return len(self.tokens) == 1 and 2 <= len(self.tokens[0]) <= 8 and self.tokens[0] in self.acronyms


def _scripts(text: str) -> frozenset[str]:
    from rigour._core import text_scripts

    return frozenset(text_scripts(text))


def _reorder(text: str) -> str:
    """OFAC's "SURNAME, Given names" as "Given names SURNAME"."""
    if text.count(",") == 1:
        family, given = (p.strip() for p in text.split(","))
        if family and given and len(given.split()) <= 6:
            return f"{given} {family}"
    return text


@lru_cache(maxsize=200_000)
def _org_split(latin: str) -> tuple[str, frozenset[str]]:
    from rigour.names import replace_org_types_compare

    marked = replace_org_types_compare(latin, generic=True)
    if marked == latin:
        return latin, frozenset()
    from rigour.names import remove_org_types

    bare = remove_org_types(latin)
    forms = set(_SPLIT.split(marked.lower())) - set(_SPLIT.split(bare.lower()))
    return bare.lower(), frozenset(f for f in forms if f)


def _acronyms(text: str, tokens: tuple[str, ...]) -> frozenset[str]:
    found = {t for m in _BRACKETED.findall(text) for t in _SPLIT.split(romanize(m)) if t}
    stripped = text.strip()
    if len(tokens) == 1 and re.fullmatch(r"(?:[A-Za-z]\.?){2,8}", stripped.replace(" ", "")):
        found.add(tokens[0])
    if len(tokens) == 1 and stripped.isupper() and 2 <= len(tokens[0]) <= 6:
        found.add(tokens[0])
    if 2 <= len(tokens) <= 8 and all(len(t) == 1 for t in tokens):  # "L T T E"
        found.add("".join(tokens))
    return frozenset(f for f in found if 2 <= len(f) <= 8)


@lru_cache(maxsize=200_000)
def prepare(name: str, person: bool = True) -> Prepared:
    """``name`` ready to compare: ``person`` turns "SURNAME, Given" around and drops
    honorifics; otherwise legal forms are set apart."""
    text = unicodedata.normalize("NFC", name)
    if person:
        text = _reorder(text)
    latin = romanize(_BRACKETED.sub(" ", text) if not person else text)
    forms: frozenset[str] = frozenset()
    if not person:
        latin, forms = _org_split(latin)
    tokens = [t for t in _SPLIT.split(latin.replace("'", "").replace("\u2019", "")) if t]
    if person:
        while len(tokens) > 1 and tokens[0] in HONORIFICS:
            tokens.pop(0)
    native = tuple(tokens) or tuple(t for t in _SPLIT.split(romanize(name)) if t)
    out = tuple(canonical(t) for t in native) if person else tuple(ORG_WORDS.get(t, t) for t in native)
    significant = [t for t in native if t not in STOPWORDS] or list(native)
    return Prepared(
        text=name,
        tokens=out,
        skeletons=tuple(skeleton(t) for t in out),
        initials="".join(t[0] for t in significant),
        acronyms=_acronyms(name, out),
        scripts=_scripts(name),
        org_forms=forms,
        native=native,
    )
