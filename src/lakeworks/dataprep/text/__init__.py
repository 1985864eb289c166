"""Text preparation: tokenizing, stop words, Porter stemming, lemmas, n-grams and TF-IDF.

The pure functions live here; :mod:`lakeworks.dataprep.text.steps` wraps them as recipe
transforms.
"""

from lakeworks.dataprep.text.lemmatize import lemmatize
from lakeworks.dataprep.text.ngrams import ngrams
from lakeworks.dataprep.text.porter import stem
from lakeworks.dataprep.text.stopwords import stop_words
from lakeworks.dataprep.text.tfidf import fit_tfidf, tfidf_rows
from lakeworks.dataprep.text.tokenize import tokenize

__all__ = ["fit_tfidf", "lemmatize", "ngrams", "stem", "stop_words", "tfidf_rows", "tokenize"]
