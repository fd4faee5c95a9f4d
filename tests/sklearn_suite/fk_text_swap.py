"""pytest plugin: scikit-learn's text vectorizers replaced by ferrokit's.

Loaded with ``-p fk_text_swap`` when running scikit-learn's own
``feature_extraction/tests/test_text.py``; it patches
``sklearn.feature_extraction.text`` before that module is imported, so the
tests' ``from sklearn.feature_extraction.text import CountVectorizer`` gets
ferrokit's class. Nothing of scikit-learn is copied.
"""

from __future__ import annotations


def pytest_configure(config) -> None:
    import sklearn.feature_extraction.text as sk_text

    from ferrokit import text as fk_text

    for name in ("CountVectorizer", "HashingVectorizer", "TfidfTransformer", "TfidfVectorizer"):
        setattr(sk_text, name, getattr(fk_text, name))
