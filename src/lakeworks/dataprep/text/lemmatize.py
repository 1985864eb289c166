"""A small rule-and-exception English lemmatizer (deliberately limited).

Unlike stemming, lemmatization returns dictionary words ("children" → "child", "went" → "go").
Real lemmatizers look candidates up in a lexicon (WordNet); this one ships no lexicon, only:

- an exception table of irregular noun plurals and irregular verb forms (about 200 entries);
- suffix rules for regular noun plurals (``-ies`` → ``-y``, ``-ches`` → ``-ch``, ``-s`` → ``""``
  …), and with ``pos="verb"`` for regular verb forms (``-ied``, ``-ing``, ``-ed``, ``-es``, with
  doubled consonants undone: "running" → "run", and a final ``e`` restored after a short
  consonant-vowel-consonant stem: "making" → "make").

Known limits, by design: no part-of-speech tagging (``auto`` applies the exception tables and the
noun rules only, like WordNet's default of nouns); words the rules misread stay misread ("news"
is protected, "lens" → "len" is not); comparatives ("better") are left alone.
"""

from __future__ import annotations

from functools import lru_cache

from lakeworks.core.errors import ValidationError

__all__ = ["NOUN_EXCEPTIONS", "POS", "VERB_EXCEPTIONS", "lemmatize"]

POS: tuple[str, ...] = ("auto", "noun", "verb")

# fmt: off
NOUN_EXCEPTIONS: dict[str, str] = {
    "men": "man", "women": "woman", "children": "child", "feet": "foot", "teeth": "tooth",
    "geese": "goose", "mice": "mouse", "lice": "louse", "people": "person", "oxen": "ox",
    "criteria": "criterion", "phenomena": "phenomenon", "analyses": "analysis",
    "theses": "thesis", "crises": "crisis", "diagnoses": "diagnosis", "hypotheses": "hypothesis",
    "cacti": "cactus", "fungi": "fungus", "nuclei": "nucleus", "alumni": "alumnus",
    "radii": "radius", "stimuli": "stimulus", "indices": "index", "matrices": "matrix",
    "vertices": "vertex", "appendices": "appendix", "knives": "knife", "wives": "wife",
    "lives": "life", "leaves": "leaf", "wolves": "wolf", "halves": "half", "shelves": "shelf",
    "loaves": "loaf", "thieves": "thief", "selves": "self", "calves": "calf", "elves": "elf",
    "scarves": "scarf", "hooves": "hoof", "dwarves": "dwarf", "potatoes": "potato",
    "tomatoes": "tomato", "heroes": "hero", "echoes": "echo", "vetoes": "veto",
    "cargoes": "cargo", "volcanoes": "volcano", "mosquitoes": "mosquito", "dice": "die",
    "pennies": "penny", "bacteria": "bacterium", "curricula": "curriculum", "media": "medium",
    "memoranda": "memorandum", "strata": "stratum", "larvae": "larva", "formulae": "formula",
    "antennae": "antenna", "vertebrae": "vertebra", "bases": "base", "cases": "case",
    "series": "series", "species": "species", "sheep": "sheep", "fish": "fish", "deer": "deer",
    "moose": "moose", "news": "news", "means": "means", "aircraft": "aircraft",
    "glasses": "glass", "always": "always", "perhaps": "perhaps",
    "less": "less", "across": "across", "gas": "gas", "bus": "bus", "lens": "lens",
    "chaos": "chaos", "canvas": "canvas", "atlas": "atlas", "bias": "bias", "famous": "famous",
    "various": "various", "previous": "previous", "serious": "serious", "analysis": "analysis",
}

VERB_EXCEPTIONS: dict[str, str] = {
    "am": "be", "is": "be", "are": "be", "was": "be", "were": "be", "been": "be", "being": "be",
    "has": "have", "had": "have", "having": "have", "does": "do", "did": "do", "done": "do",
    "goes": "go", "went": "go", "gone": "go", "ran": "run", "ate": "eat", "eaten": "eat",
    "made": "make", "said": "say", "took": "take", "taken": "take", "came": "come", "saw": "see",
    "seen": "see", "got": "get", "gotten": "get", "gave": "give", "given": "give",
    "knew": "know", "known": "know", "thought": "think", "found": "find", "told": "tell",
    "became": "become", "left": "leave", "felt": "feel", "brought": "bring", "began": "begin",
    "begun": "begin", "kept": "keep", "held": "hold", "wrote": "write", "written": "write",
    "stood": "stand", "heard": "hear", "meant": "mean", "met": "meet", "paid": "pay",
    "sat": "sit", "spoke": "speak", "spoken": "speak", "led": "lead", "grew": "grow",
    "grown": "grow", "lost": "lose", "fell": "fall", "fallen": "fall", "sent": "send",
    "built": "build", "understood": "understand", "drew": "draw", "drawn": "draw",
    "broke": "break", "broken": "break", "spent": "spend", "rose": "rise", "risen": "rise",
    "drove": "drive", "driven": "drive", "bought": "buy", "wore": "wear", "worn": "wear",
    "chose": "choose", "chosen": "choose", "sold": "sell", "taught": "teach", "caught": "catch",
    "fought": "fight", "sought": "seek", "won": "win", "shot": "shoot", "slept": "sleep",
    "swam": "swim", "swum": "swim", "sang": "sing", "sung": "sing", "drank": "drink",
    "drunk": "drink", "flew": "fly", "flown": "fly", "threw": "throw", "thrown": "throw",
    "hid": "hide", "hidden": "hide", "rode": "ride", "ridden": "ride", "froze": "freeze",
    "frozen": "freeze", "forgot": "forget", "forgotten": "forget", "woke": "wake",
    "woken": "wake", "bit": "bite", "bitten": "bite", "shook": "shake", "shaken": "shake",
    "aged": "age", "aging": "age", "ageing": "age", "dying": "die", "lying": "lie",
    "tying": "tie", "seeing": "see", "fleeing": "flee", "agreeing": "agree",
}
# fmt: on

_NOUN_RULES: tuple[tuple[str, str], ...] = (
    ("sses", "ss"),
    ("ies", "y"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
)
_VOWELS = frozenset("aeiou")


def _noun(word: str) -> str:
    for suffix, replacement in _NOUN_RULES:
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _restore(stem: str) -> str:
    # "running" → "runn" → "run"; "making" → "mak" → "make"; "opening" → "open".
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS | set("lsz"):
        return stem[:-1]
    if (
        len(stem) == 3
        and stem[0] not in _VOWELS
        and stem[1] in _VOWELS
        and stem[2] not in _VOWELS | set("wxy")
    ):
        return stem + "e"
    return stem


def _verb(word: str) -> str:
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ing") and len(word) > 4 and any(c in _VOWELS for c in word[:-3]):
        return _restore(word[:-3])
    if word.endswith("eed") and len(word) > 4:
        return word[:-1]
    if word.endswith("ed") and len(word) > 3 and any(c in _VOWELS for c in word[:-2]):
        return _restore(word[:-2])
    for suffix in ("sses", "xes", "zes", "ches", "shes"):
        if word.endswith(suffix):
            return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def lemmatize(word: str, pos: str = "auto") -> str:
    """Return the lemma of a lower-case ``word``.

    Args:
        word: One token, lower case.
        pos: ``noun``, ``verb`` or ``auto`` (both exception tables, then the noun rules).

    Raises:
        ValidationError: Unknown ``pos``.
    """
    if pos not in POS:
        raise ValidationError(f"lemmatize: 'pos' must be one of {list(POS)}; got {pos!r}")
    if pos == "verb":
        return VERB_EXCEPTIONS.get(word) or _verb(word)
    if word in NOUN_EXCEPTIONS:
        return NOUN_EXCEPTIONS[word]
    if pos == "auto" and word in VERB_EXCEPTIONS:
        return VERB_EXCEPTIONS[word]
    return _noun(word)
