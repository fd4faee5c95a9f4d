"""The serve benchmark suite's reporting (goals, README table) on made-up results."""

from __future__ import annotations

from ferrokit.benchmarks import serve


def run(rps: float, p50: float = 1e-4, p99: float = 2e-3) -> dict[str, float]:
    return {"rps": rps, "p50": p50, "p99": p99, "server_cpu_s": 1.0, "ok": 1.0}


def test_goals_and_text_goals() -> None:
    results = {
        "ferrokit-serve": {"1": run(20000, p50=3e-5), "32": run(30000, p99=6e-3)},
        "FastAPI+uvicorn, 2 workers": {"1": run(1000), "32": run(3000)},
    }
    goals = {g["goal"]: g for g in serve._goals(results)}
    assert (
        goals["c=32 req/s vs FastAPI 2 workers"]["ratio"] == 10
        and goals["c=32 req/s vs FastAPI 2 workers"]["met"]
    )
    assert not goals["c=32 p99 (ms)"]["met"] and goals["c=1 p50 (us)"]["met"]
    text = {"ferrokit-serve": {"32": run(9000)}, "FastAPI+uvicorn, 2 workers": {"32": run(1000)}}
    (g,) = serve._text_goals(text)
    assert g["goal"] == "text c=32 req/s vs FastAPI 2 workers" and g["ratio"] == 9 and not g["met"]
    assert serve._text_goals({}) == []


def test_readme_lines_include_the_text_rows() -> None:
    meta = {"cpu": "x", "cores": 2, "seconds per run": 15, "text case": "TF-IDF + LR"}
    data = {
        "meta": meta,
        "results": {"ferrokit-serve": {"32": run(30000)}},
        "text": {"ferrokit-serve": {"32": run(25000)}, "FastAPI+uvicorn, 2 workers": {"1": run(900)}},
    }
    lines = serve.readme_lines(data)
    assert any(line.startswith("| ferrokit-serve (text) | 32 | 25000 |") for line in lines)
    assert any(line.startswith("| FastAPI+uvicorn, 2 workers (text) | 1 | 900 |") for line in lines)
    assert lines[-1] == "Text rows: TF-IDF + LR."
    data["results"]["ferrokit-serve"]["floor-32"] = run(60000, p99=4.5e-3)
    (floor,) = [line for line in serve.readme_lines(data) if line.startswith("Floor:")]
    assert "60000 req/s" in floor and "p99 4.500 ms" in floor
    assert serve.readme_lines({"meta": meta, "results": {}})[-1].startswith("|---")
