"""Language per article: what a source declares, else what py3langid detects.

    Article (lang from the source, or None) ─▶ article_language() ─▶ ISO 639-1 code or None
                                           ─▶ analysis: the stemmer for the article's words

py3langid's model ships inside the package (nothing is downloaded). It reads the headline,
standfirst and the start of the body (:data:`DETECT_CHARS` characters: enough for a stable
answer, and detection stays a small share of the indexing time) and answers only when it is
at least :data:`MIN_CONFIDENCE` sure; very short texts (a headline alone) are left undecided
and analysed as before (Latin words as English).

:data:`LATIN_STEMMERS` maps a language to its Snowball stemmer for Latin-script words.
"""

from __future__ import annotations

import threading
from typing import Any

from .article import Article

__all__ = ["DETECT_CHARS", "LATIN_STEMMERS", "MIN_CONFIDENCE", "article_language",
           "detect_language"]

DETECT_CHARS = 400
MIN_CONFIDENCE = 0.8
MIN_LETTERS = 40  # below this, a text says too little about its language

# ISO 639-1 → Snowball stemmer (PyStemmer) for Latin-script text in that language.
LATIN_STEMMERS = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
    "pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian",
    "nb": "norwegian", "nn": "norwegian", "fi": "finnish", "hu": "hungarian",
    "ro": "romanian", "tr": "turkish", "ca": "catalan", "eu": "basque", "ga": "irish",
    "id": "indonesian", "lt": "lithuanian", "et": "estonian", "cs": "czech", "pl": "polish",
    "eo": "esperanto",
}

_lock = threading.Lock()
_identifier: list[Any] = []


def _model() -> Any:
    if not _identifier:
        with _lock:
            if not _identifier:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier.append(LanguageIdentifier.from_model_file(MODEL_FILE,
                                                                         norm_probs=True))
    return _identifier[0]


def detect_language(text: str) -> str | None:
    """The language of ``text`` as an ISO 639-1 code, or None when unsure or too short."""
    sample = text[:DETECT_CHARS]
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return None
    lang, prob = _model().classify(sample)
    return str(lang) if prob >= MIN_CONFIDENCE else None


def article_language(article: Article) -> str | None:
    """The declared language, else the detected one (title, standfirst and body start)."""
    if article.lang:
        return article.lang
    parts = [p for p in (article.title, article.subtitle, article.body[:DETECT_CHARS]) if p]
    return detect_language("\n".join(parts))
