"""A shipped English stop word list: common function words that carry little meaning alone.

The list is the usual short one (pronouns, articles, auxiliaries, prepositions, conjunctions and
the pieces tokenizers split contractions into — ``don``, ``t``, ``ll``), about 180 words, close
to NLTK's English list. It is deliberately short: words like "not" and "no" are in it, so drop
them from the list (``keep``) for sentiment work.
"""

from __future__ import annotations

from collections.abc import Iterable

from lakeworks.core.errors import ValidationError

__all__ = ["ENGLISH", "LANGUAGES", "stop_words"]

ENGLISH: frozenset[str] = frozenset(
    """
     a about above after again against ain all am an and any are aren aren't as at be because
     been before being below between both but by can couldn couldn't d did didn didn't do does
     doesn doesn't doing don don't down during each few for from further had hadn hadn't has hasn
     hasn't have haven haven't having he her here hers herself him himself his how i if in into
     is isn isn't it it's its itself just ll m ma me mightn mightn't more most mustn mustn't my
     myself needn needn't no nor not now o of off on once only or other our ours ourselves out
     over own re s same shan shan't she she's should should've shouldn shouldn't so some such t
     than that that'll the their theirs them themselves then there these they this those through
     to too under until up ve very was wasn wasn't we were weren weren't what when where which
     while who whom why will with won won't wouldn wouldn't y you you'd you'll you're you've your
     yours yourself yourselves
    """.split()  # noqa: SIM905 - a word list reads better as text
)

#: Languages with a shipped list.
LANGUAGES: dict[str, frozenset[str]] = {"english": ENGLISH}


def stop_words(
    language: str = "english", extra: Iterable[str] = (), keep: Iterable[str] = ()
) -> frozenset[str]:
    """Return the stop words of ``language`` plus ``extra`` minus ``keep`` (all lower-cased).

    Raises:
        ValidationError: No list ships for ``language``.
    """
    if language not in LANGUAGES:
        raise ValidationError(
            f"No stop word list for language {language!r}; available: {sorted(LANGUAGES)}"
        )
    words = set(LANGUAGES[language]) | {w.lower() for w in extra}
    return frozenset(words - {w.lower() for w in keep})
