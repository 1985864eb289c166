"""The Porter stemming algorithm (M. F. Porter, "An algorithm for suffix stripping", 1980).

This follows Martin Porter's own reference implementation (the ANSI C and Python versions on
tartarus.org), which departs from the published paper in two places: step 2 maps ``-bli`` to
``-ble`` (the paper: ``-abli`` to ``-able``) and adds ``-logi`` to ``-log``. Its output on
Porter's vocabulary is the one usually tested against (NLTK calls this mode
``MARTIN_EXTENSIONS``). Words are expected in lower case; words of one or two letters are left
alone.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["stem"]


class _Word:
    """One word being stemmed: ``b[0..k]`` is the current stem, ``j`` a working end."""

    def __init__(self, word: str) -> None:
        self.b = word
        self.k = len(word) - 1
        self.j = 0

    def cons(self, i: int) -> bool:
        """Whether ``b[i]`` is a consonant (``y`` after a consonant counts as a vowel)."""
        ch = self.b[i]
        if ch in "aeiou":
            return False
        if ch == "y":
            return True if i == 0 else not self.cons(i - 1)
        return True

    def m(self) -> int:
        """The number of vowel-consonant sequences in ``b[0..j]`` (the measure of the stem)."""
        n = 0
        i = 0
        while True:
            if i > self.j:
                return n
            if not self.cons(i):
                break
            i += 1
        i += 1
        while True:
            while True:
                if i > self.j:
                    return n
                if self.cons(i):
                    break
                i += 1
            i += 1
            n += 1
            while True:
                if i > self.j:
                    return n
                if not self.cons(i):
                    break
                i += 1
            i += 1

    def vowel_in_stem(self) -> bool:
        """Whether ``b[0..j]`` holds a vowel."""
        return any(not self.cons(i) for i in range(self.j + 1))

    def double_consonant(self, j: int) -> bool:
        """Whether ``b[j-1..j]`` is a double consonant."""
        return j >= 1 and self.b[j] == self.b[j - 1] and self.cons(j)

    def cvc(self, i: int) -> bool:
        """Whether ``b[i-2..i]`` is consonant-vowel-consonant, the last not w, x or y."""
        if i < 2 or not self.cons(i) or self.cons(i - 1) or not self.cons(i - 2):
            return False
        return self.b[i] not in "wxy"

    def ends(self, suffix: str) -> bool:
        """Whether ``b[0..k]`` ends with ``suffix``; sets ``j`` to the end of what precedes it."""
        length = len(suffix)
        if length > self.k + 1 or self.b[self.k - length + 1 : self.k + 1] != suffix:
            return False
        self.j = self.k - length
        return True

    def set_to(self, replacement: str) -> None:
        """Replace ``b[j+1..k]`` by ``replacement``."""
        self.b = self.b[: self.j + 1] + replacement + self.b[self.k + 1 :]
        self.k = self.j + len(replacement)

    def replace(self, replacement: str) -> None:
        """:meth:`set_to` when the stem's measure is positive."""
        if self.m() > 0:
            self.set_to(replacement)

    def step1ab(self) -> None:
        """Plurals and -ed / -ing."""
        if self.b[self.k] == "s":
            if self.ends("sses"):
                self.k -= 2
            elif self.ends("ies"):
                self.set_to("i")
            elif self.b[self.k - 1] != "s":
                self.k -= 1
        if self.ends("eed"):
            if self.m() > 0:
                self.k -= 1
        elif (self.ends("ed") or self.ends("ing")) and self.vowel_in_stem():
            self.k = self.j
            if self.ends("at"):
                self.set_to("ate")
            elif self.ends("bl"):
                self.set_to("ble")
            elif self.ends("iz"):
                self.set_to("ize")
            elif self.double_consonant(self.k):
                self.k -= 1
                if self.b[self.k] in "lsz":
                    self.k += 1
            else:
                self.j = self.k
                if self.m() == 1 and self.cvc(self.k):
                    self.set_to("e")

    def step1c(self) -> None:
        """Terminal y to i when there is another vowel in the stem."""
        if self.ends("y") and self.vowel_in_stem():
            self.b = self.b[: self.k] + "i" + self.b[self.k + 1 :]

    def _first(self, rules: tuple[tuple[str, str], ...]) -> None:
        for suffix, replacement in rules:
            if self.ends(suffix):
                self.replace(replacement)
                return

    def step2(self) -> None:
        """Double suffixes to single ones (-ization → -ize …), for a stem with m > 0."""
        self._first(_STEP2.get(self.b[self.k - 1], ()))

    def step3(self) -> None:
        """-ic-, -full, -ness and the like."""
        self._first(_STEP3.get(self.b[self.k], ()))

    def step4(self) -> None:
        """Take off -ant, -ence … in context <c>vcvc<v>."""
        for suffix in _STEP4.get(self.b[self.k - 1], ()):
            if self.ends(suffix):
                if suffix == "ion" and not (self.j >= 0 and self.b[self.j] in "st"):
                    continue
                break
        else:
            return
        if self.m() > 1:
            self.k = self.j

    def step5(self) -> None:
        """Remove a final -e when m > 1 (or m = 1 and not *o), and -ll to -l when m > 1."""
        self.j = self.k
        if self.b[self.k] == "e":
            a = self.m()
            if a > 1 or (a == 1 and not self.cvc(self.k - 1)):
                self.k -= 1
        if self.b[self.k] == "l" and self.double_consonant(self.k) and self.m() > 1:
            self.k -= 1


_STEP2: dict[str, tuple[tuple[str, str], ...]] = {
    "a": (("ational", "ate"), ("tional", "tion")),
    "c": (("enci", "ence"), ("anci", "ance")),
    "e": (("izer", "ize"),),
    "l": (("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous")),
    "o": (("ization", "ize"), ("ation", "ate"), ("ator", "ate")),
    "s": (("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous")),
    "t": (("aliti", "al"), ("iviti", "ive"), ("biliti", "ble")),
    "g": (("logi", "log"),),
}

_STEP3: dict[str, tuple[tuple[str, str], ...]] = {
    "e": (("icate", "ic"), ("ative", ""), ("alize", "al")),
    "i": (("iciti", "ic"),),
    "l": (("ical", "ic"), ("ful", "")),
    "s": (("ness", ""),),
}

_STEP4: dict[str, tuple[str, ...]] = {
    "a": ("al",),
    "c": ("ance", "ence"),
    "e": ("er",),
    "i": ("ic",),
    "l": ("able", "ible"),
    "n": ("ant", "ement", "ment", "ent"),
    "o": ("ion", "ou"),
    "s": ("ism",),
    "t": ("ate", "iti"),
    "u": ("ous",),
    "v": ("ive",),
    "z": ("ize",),
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Return the Porter stem of a lower-case ``word`` (``"generalizations"`` → ``"gener"``)."""
    if len(word) <= 2:
        return word
    w = _Word(word)
    w.step1ab()
    if w.k > 0:
        w.step1c()
        w.step2()
        w.step3()
        w.step4()
        w.step5()
    return w.b[: w.k + 1]
