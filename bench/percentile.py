"""The nearest-rank percentile every benchmark here prints (p50, p95 of latencies)."""


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]
