"""The latency model's fit and its leave-one-model-out error, on numbers whose answer is known."""

from __future__ import annotations

import pytest

from edgebuild.verify.latency_model import FITTED_FEATURES, error_summary, fit, leave_one_model_out


def _features(gmacs: float) -> dict[str, float]:
    return {**dict.fromkeys(FITTED_FEATURES, 0.0), "macs_conv": gmacs * 1e9}


def test_an_exact_linear_relation_is_recovered_with_non_negative_costs():
    gmacs = [0.3, 1.0, 2.0, 4.0, 8.0]
    model_fit = fit([_features(g) for g in gmacs], [0.1 + 0.5 * g for g in gmacs])

    assert model_fit.overhead_ms == pytest.approx(0.1, abs=1e-9)
    assert model_fit.costs_ms["macs_conv"] == pytest.approx(0.5, abs=1e-9)
    assert all(cost >= 0 for cost in model_fit.costs_ms.values())


def test_a_held_out_model_never_informs_its_own_prediction():
    """Every model but `odd` lies on 0.1 + 0.5 ms/GMAC; `odd` takes 3x that. Held out, it is predicted
    from the others exactly on the line (a 66.7% error); had its row leaked into its fit, less."""
    gmacs = {"a": 0.3, "b": 1.0, "c": 2.0, "odd": 3.0, "d": 4.0, "e": 8.0}
    latency = {name: (0.1 + 0.5 * g) * (3 if name == "odd" else 1) for name, g in gmacs.items()}
    names = list(gmacs)

    rows = {row["model"]: row for row in leave_one_model_out(names, [_features(gmacs[n]) for n in names],
                                                            [latency[n] for n in names])}

    assert rows["odd"]["predicted_ms"] == pytest.approx(0.1 + 0.5 * 3.0, abs=1e-4)
    assert rows["odd"]["ape_pct"] == pytest.approx(200 / 3, abs=0.01)
    assert all(rows[name]["ape_pct"] > 0 for name in "abcde")  # their fits did see `odd`
    summary = error_summary(list(rows.values()))
    assert summary["models"] == 6 and summary["p90_ape_pct"] >= summary["median_ape_pct"]
