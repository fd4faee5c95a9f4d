"""The text half of :mod:`ferrokit.export`: vectorizers and what may follow them.

Writes a ``text_vectorizer`` block (analyzer, n-grams, lowercase, accent
stripping, stop words, dtype, the vocabulary in column order or the hashing
parameters, and the running Python's character tables so that C and Rust
tokenize exactly like this Python), a ``tfidf`` block (``sublinear_tf``,
``idf_``) and a ``normalizer`` block for a vectorizer's or transformer's
``norm``. Anything the file cannot reproduce raises ``TypeError`` (a callable)
or ``ValueError`` (a parameter value), naming the step.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import numpy as np

_TEXT_VECTORIZER, _TFIDF, _NORMALIZER = 6, 7, 4
_VECTORIZERS = ("HashingVectorizer", "CountVectorizer", "TfidfVectorizer")
_TEXT_MODULES = ("sklearn.feature_extraction.text", "ferrokit.text")
_ANALYZERS = {"word": 0, "char": 1, "char_wb": 2}
_DTYPES = {np.dtype(np.float64): 1, np.dtype(np.float32): 2, np.dtype(np.int64): 3, np.dtype(np.int32): 4}
_NORMS = {"l1": 1, "l2": 2}
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
#: What a text pipeline may hold.
SUPPORTED_TEXT = (
    "HashingVectorizer / CountVectorizer / TfidfVectorizer first (scikit-learn's or ferrokit's; "
    "built-in analyzer 'word' with the default token_pattern, 'char' or 'char_wb'; input='content'), "
    "then optionally TfidfTransformer (after Count/HashingVectorizer), Normalizer, MaxAbsScaler, "
    "StandardScaler(with_mean=False)"
)


def _who(name: str, est: Any) -> str:
    return f"step {name!r} ({type(est).__name__})"


def _is(est: Any, names: tuple[str, ...], modules: tuple[str, ...]) -> bool:
    t = type(est)
    return t.__name__ in names and any(t.__module__.startswith(m) for m in modules)


def is_vectorizer(est: Any) -> bool:
    """True for scikit-learn's or ferrokit's Hashing/Count/TfidfVectorizer."""
    return _is(est, _VECTORIZERS, _TEXT_MODULES)


def is_tfidf_transformer(est: Any) -> bool:
    """True for scikit-learn's or ferrokit's TfidfTransformer."""
    return _is(est, ("TfidfTransformer",), _TEXT_MODULES)


def _flat(ranges: np.ndarray) -> np.ndarray:
    return np.asarray(ranges, dtype=np.int64).reshape(-1)


@functools.lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    from ferrokit._text_native import python_tables

    t = python_tables()
    return {
        "word": _flat(t["word"]),
        "space": _flat(t["space"]),
        "case_ignorable": _flat(t["case_ignorable"]),
        "cased": _flat(t["cased"]),
        "lower_cp": np.asarray([c for c, _ in t["lower"]], dtype=np.int64),
        "lower_to": [s for _, s in t["lower"]],
    }


@functools.lru_cache(maxsize=2)
def _accents(mode: str) -> tuple[np.ndarray, list[str]]:
    """Per non-ASCII code point, what scikit-learn's ``strip_accents_<mode>``
    makes of it, where that differs from the default (``unicode``: keep the
    character; ``ascii``: drop it). Exact because NFKD only reorders the
    combining characters that both functions drop."""
    cps: list[int] = []
    to: list[str] = []
    normalize, combining = unicodedata.normalize, unicodedata.combining
    for cp in range(128, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        n = normalize("NFKD", c)
        if mode == "unicode":
            r = "".join(x for x in n if not combining(x))
            if r != c:
                cps.append(cp)
                to.append(r)
        else:
            r = n.encode("ascii", "ignore").decode("ascii")
            if r:
                cps.append(cp)
                to.append(r)
    return np.asarray(cps, dtype=np.int64), to


def vectorizer_blocks(name: str, est: Any, block: Any) -> tuple[list[bytes], int, dict[str, str]]:
    """The blocks of a fitted vectorizer (``text_vectorizer``, then ``tfidf``
    and ``normalizer`` as its parameters say), its output width, and what
    Python needs to decode documents (``encoding``, ``decode_error``, ``dtype``)."""
    who = _who(name, est)
    if est.input != "content":
        raise ValueError(f"ferrokit.export: {who}: input={est.input!r}; only input='content' is supported")
    for attr in ("analyzer", "preprocessor", "tokenizer", "strip_accents"):
        if callable(getattr(est, attr, None)):
            raise TypeError(
                f"ferrokit.export: {who}: a callable {attr} cannot be stored in a model file; "
                f"supported: {SUPPORTED_TEXT}"
            )
    if est.preprocessor is not None or est.tokenizer is not None:
        raise ValueError(f"ferrokit.export: {who}: preprocessor and tokenizer must be None")
    if est.analyzer not in _ANALYZERS:
        raise ValueError(
            f"ferrokit.export: {who}: analyzer={est.analyzer!r}; supported: 'word', 'char', 'char_wb'"
        )
    if est.analyzer == "word" and est.token_pattern != DEFAULT_TOKEN_PATTERN:
        raise ValueError(
            f"ferrokit.export: {who}: token_pattern={est.token_pattern!r}; only the default "
            f"{DEFAULT_TOKEN_PATTERN!r} is supported"
        )
    if est.strip_accents not in (None, "ascii", "unicode"):
        raise ValueError(f"ferrokit.export: {who}: strip_accents={est.strip_accents!r} is not supported")
    lo, hi = (int(v) for v in est.ngram_range)
    if not 1 <= lo <= hi <= 1024:
        raise ValueError(f"ferrokit.export: {who}: ngram_range={est.ngram_range!r} is not valid")
    try:
        dt = np.dtype(est.dtype)
    except TypeError as exc:
        raise ValueError(f"ferrokit.export: {who}: dtype {est.dtype!r} is not a numpy dtype") from exc
    if dt not in _DTYPES:
        raise ValueError(f"ferrokit.export: {who}: dtype {dt}; supported: float64, float32, int64, int32")
    f: dict[str, Any] = {
        "name": name,
        "estimator": f"{type(est).__module__}.{type(est).__qualname__}",
        "analyzer": _ANALYZERS[est.analyzer],
        "ngram_range": np.array([lo, hi], dtype=np.int64),
        "lowercase": int(bool(est.lowercase)),
        "strip_accents": {None: 0, "ascii": 1, "unicode": 2}[est.strip_accents],
        "binary": int(bool(est.binary)),
        "dtype": _DTYPES[dt],
    }
    if est.analyzer == "word":
        stop = est.get_stop_words()
        if stop is not None:
            f["stop_words"] = sorted(str(s) for s in stop)
    f.update(_tables())
    if est.strip_accents:
        f["accent_cp"], f["accent_to"] = _accents(est.strip_accents)
    hashing = type(est).__name__ == "HashingVectorizer"
    norm = getattr(est, "norm", None)
    if hashing:
        n = est.n_features
        if not isinstance(n, (int, np.integer)) or not 1 <= n <= 2**31 - 1:
            raise ValueError(f"ferrokit.export: {who}: n_features={n!r} is not in [1, 2**31 - 1]")
        f["n_features"] = int(n)
        f["alternate_sign"] = int(bool(est.alternate_sign))
    else:
        voc = getattr(est, "vocabulary_", None)
        if voc is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"ferrokit.export: {who} is not fitted (no vocabulary_); call fit first")
        terms: list[Any] = [None] * len(voc)
        for t, j in voc.items():
            if not isinstance(t, str) or not 0 <= int(j) < len(voc) or terms[int(j)] is not None:
                raise ValueError(f"ferrokit.export: {who}: vocabulary_ is not a str -> column numbering")
            terms[int(j)] = t
        f["n_features"] = len(terms)
        f["vocabulary"] = terms
    width = int(f["n_features"])
    blocks = [block(_TEXT_VECTORIZER, f)]
    if type(est).__name__ == "TfidfVectorizer":
        blocks.append(tfidf_block(name, est, block, width, est.use_idf, est.sublinear_tf))
    if norm is not None:
        blocks.append(normalizer_block(name, est, block, width, norm))
    info = {"encoding": est.encoding, "decode_error": est.decode_error, "dtype": dt.str}
    return blocks, width, {**info, "vectorizer": type(est).__name__}


def tfidf_block(name: str, est: Any, block: Any, width: int, use_idf: bool, sublinear: bool) -> bytes:
    """A ``tfidf`` block (without the norm: that is a normalizer block)."""
    f: dict[str, Any] = {"name": name, "n_features": width, "sublinear_tf": int(bool(sublinear))}
    if use_idf:
        idf = np.asarray(est.idf_)
        if idf.shape != (width,) or idf.dtype.kind != "f":
            raise ValueError(
                f"ferrokit.export: {_who(name, est)}: idf_ of shape {idf.shape} for {width} columns"
            )
        f["idf"] = idf
    return block(_TFIDF, f)


def normalizer_block(name: str, est: Any, block: Any, width: int, norm: Any) -> bytes:
    """A ``normalizer`` block for a vectorizer's / TfidfTransformer's ``norm``."""
    if norm not in _NORMS:
        raise ValueError(f"ferrokit.export: {_who(name, est)}: norm={norm!r}; supported: 'l1', 'l2', None")
    return block(_NORMALIZER, {"name": f"{name} (norm)", "n_features": width, "norm": _NORMS[norm]})


def transformer_blocks(name: str, est: Any, block: Any, width: int) -> list[bytes]:
    """The blocks of a fitted TfidfTransformer taking ``width`` columns."""
    n = getattr(est, "n_features_in_", None)
    if n is not None and int(n) != width:
        raise ValueError(f"ferrokit.export: {_who(name, est)} takes {n} columns but receives {width}")
    if est.use_idf and not hasattr(est, "idf_"):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"ferrokit.export: {_who(name, est)} is not fitted (no idf_)")
    out = [tfidf_block(name, est, block, width, est.use_idf, est.sublinear_tf)]
    if est.norm is not None:
        out.append(normalizer_block(name, est, block, width, est.norm))
    return out
