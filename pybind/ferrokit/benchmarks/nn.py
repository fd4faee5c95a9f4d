"""``python -m ferrokit bench --suite nn``: inference kernels and MLP inference
side by side with numpy / scipy / scikit-learn, in one process.

Every number is the median of interleaved repeats (the cases of one comparison
run round-robin, so a noisy neighbour slows all of them alike); numpy's BLAS is
limited to the same thread count as ferrokit with threadpoolctl. Goals (issue 5)
are ratios ``reference time / ferrokit time``; they are reported, never asserted.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import ferrokit as fk
from ferrokit import nn
from ferrokit.benchmarks.common import BLAS_SETTLE_S, blas_limit, cpu_model, fmt_time, interleaved

# (label, key of the comparison, ferrokit case, reference case, minimum ratio)
GOALS = [
    ("softmax (4096,1024) f32", "softmax", "ferrokit", "numpy", 5.0),
    ("layer_norm (4096,1024) f32", "layer_norm", "ferrokit", "numpy", 5.0),
    ("gelu 1e7 f32", "gelu", "ferrokit", "numpy+scipy erf", 3.0),
    ("silu 1e7 f32", "silu", "ferrokit", "numpy", 3.0),
    ("linear (4096,1024)x(1024,1024) f32", "linear", "ferrokit", "numpy matmul+bias", 0.8),
    ("MLP predict_proba, 1 sample", "mlp_1", "ferrokit", "scikit-learn", 20.0),
    ("MLP predict_proba, 10000 samples", "mlp_10000", "ferrokit", "scikit-learn", 1.5),
]


CONTEXT_SCALING = "scaling context (fewer threads than the default), not a goal of the issue"


def _np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _np_gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))


def _np_gelu_tanh(x: np.ndarray) -> np.ndarray:
    c = np.float32(np.sqrt(2.0 / np.pi))
    return 0.5 * x * (1.0 + np.tanh(c * (x + np.float32(0.044715) * x**3)))


def _np_silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def _mlp_models(quick: bool) -> tuple[Any, nn.MLP]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 64))
    y = rng.integers(0, 5, size=2000)
    sk = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=2 if quick else 5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(X, y)
    return sk, nn.MLP.from_sklearn(sk)


def _stable_malloc() -> bool:
    """Asks glibc to keep freed memory instead of returning it to the OS.

    Interleaving a numpy formula (several 16 MB temporaries) with a kernel
    that allocates one 16 MB result makes glibc trim or unmap the heap after
    one case and fault every page in again in the next: an artefact of the
    case order worth several ms here, which hit whichever case ran after
    numpy's. With the thresholds raised, both sides reuse memory as they do
    when run alone. Returns False where mallopt is unavailable.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 1 << 30) == 1
        return bool(ok and libc.mallopt(m_trim_threshold, 1 << 31) == 1)
    except (OSError, AttributeError):
        return False


def bench(threads: int, quick: bool) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(1)
    reps = 5 if quick else 15
    res: dict[str, dict[str, float]] = {}
    fk.set_num_threads(threads)
    try:
        with blas_limit(threads):
            x = rng.standard_normal((4096, 1024)).astype(np.float32)
            out = np.empty_like(x)
            w = rng.standard_normal(1024).astype(np.float32)
            b = rng.standard_normal(1024).astype(np.float32)
            res["softmax"] = interleaved(
                {
                    "ferrokit": lambda: nn.softmax(x),
                    "ferrokit out=": lambda: nn.softmax(x, out=out),
                    "numpy": lambda: _np_softmax(x),
                },
                reps,
            )
            res["layer_norm"] = interleaved(
                {
                    "ferrokit": lambda: nn.layer_norm(x, w, b),
                    "ferrokit out=": lambda: nn.layer_norm(x, w, b, out=out),
                    "numpy": lambda: _np_layer_norm(x, w, b),
                },
                reps,
            )
            v = rng.standard_normal(10**6 if quick else 10**7).astype(np.float32)
            vo = np.empty_like(v)
            r2 = max(3, reps // 3)
            res["gelu"] = interleaved(
                {
                    "ferrokit": lambda: nn.gelu(v),
                    "ferrokit out=": lambda: nn.gelu(v, out=vo),
                    "numpy+scipy erf": lambda: _np_gelu(v),
                },
                r2,
            )
            res["gelu_tanh"] = interleaved(
                {"ferrokit": lambda: nn.gelu(v, approximate="tanh"), "numpy": lambda: _np_gelu_tanh(v)}, r2
            )
            res["silu"] = interleaved(
                {
                    "ferrokit": lambda: nn.silu(v),
                    "ferrokit out=": lambda: nn.silu(v, out=vo),
                    "numpy": lambda: _np_silu(v),
                },
                r2,
            )
            m = 1024 if quick else 4096
            xl = x[:m]
            wl = rng.standard_normal((1024, 1024)).astype(np.float32)
            bl = rng.standard_normal(1024).astype(np.float32)
            lo = np.empty((m, 1024), np.float32)
            res["linear"] = interleaved(
                {
                    "ferrokit": lambda: nn.linear(xl, wl, bl),
                    "ferrokit out=": lambda: nn.linear(xl, wl, bl, out=lo),
                    "ferrokit relu": lambda: nn.linear(xl, wl, bl, "relu"),
                    "numpy matmul+bias": lambda: xl @ wl.T + bl,
                },
                max(3, reps // 3),
                settle=BLAS_SETTLE_S if threads > 1 else 0.0,
            )
            sk, model = _mlp_models(quick)
            X1 = rng.normal(size=(1, 64))
            Xb = rng.normal(size=(10_000, 64))
            inner = 50 if quick else 300
            res["mlp_1"] = interleaved(
                {"ferrokit": lambda: model.predict_proba(X1), "scikit-learn": lambda: sk.predict_proba(X1)},
                reps,
                inner,
            )
            res["mlp_10000"] = interleaved(
                {"ferrokit": lambda: model.predict_proba(Xb), "scikit-learn": lambda: sk.predict_proba(Xb)},
                reps,
                settle=BLAS_SETTLE_S if threads > 1 else 0.0,
            )
            model.close()
    finally:
        fk.set_num_threads(None)
    return res


def run(quick: bool = False, out_dir: str = "bench-results") -> int:
    """Runs the nn suite at 1 thread and at the default thread count, prints the
    table and the goals (judged at the default count), writes nn.json."""
    meta = {
        "stable malloc (mallopt)": _stable_malloc(),
        "cpu": cpu_model(),
        "simd level": fk.simd_level(),
        "default threads": fk.get_num_threads(),
        "quick": quick,
    }
    default = fk.get_num_threads()
    by_threads = {t: bench(t, quick) for t in sorted({1, default})}
    print(f"ferrokit.nn benchmark  ({meta['cpu']}, simd {meta['simd level']}; medians)")
    for t, res in by_threads.items():
        print(f"\n--- {t} thread(s) (BLAS limited to the same) ---")
        for key, cases in res.items():
            ref = max(cases.values())
            print(f"{key}:")
            for name, sec in cases.items():
                print(f"    {name:<20} {fmt_time(sec):>10}   x{ref / sec:6.2f} vs slowest")
    # The goals hold at the default thread count (all usable cores);
    # fewer threads are reported as scaling context, not judged.
    goals: list[dict[str, Any]] = []
    context: list[dict[str, Any]] = []
    print("\ngoals (ratio = reference time / ferrokit time):")
    for label, key, case, ref, need in GOALS:
        for t, res in by_threads.items():
            ratio = res[key][ref] / res[key][case]
            row = {
                "goal": f"{label}, {t} thread{'s' if t > 1 else ''}",
                "ratio": ratio,
                "required": need,
                "met": bool(ratio >= need),
            }
            if t == default:
                goals.append(row)
                verdict = "met" if row["met"] else "NOT met"
            else:
                row["context"] = CONTEXT_SCALING
                context.append(row)
                verdict = "context"
            print(f"  {row['goal']:<48} x{ratio:6.2f}   goal >= {need:g}: {verdict}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "nn.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "results": {str(t): r for t, r in by_threads.items()},
                "goals": goals,
                "context": context,
            },
            indent=2,
        )
    )
    print(f"\nwrote {out / 'nn.json'}")
    return 0


def chart_groups(data: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    """The chart of ``nn.json``: every kernel at the default thread count."""
    from ferrokit.benchmarks.charts import machine_line

    m = data["meta"]
    default = str(m.get("default threads", 2))
    res = data["results"].get(default) or next(iter(data["results"].values()))
    groups = [(key.replace("_", " "), dict(cases)) for key, cases in res.items()]
    return machine_line(m["cpu"], default, m.get("load average")), groups
