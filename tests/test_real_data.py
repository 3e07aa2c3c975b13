"""Tests of benchmarks/real_data.py: pieces on synthetic data, real cohorts if installed."""

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.metrics import brier_score
from sksurv.nonparametric import SurvivalFunctionEstimator
from sksurv.util import Surv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/<script>.py` does

import real_data  # noqa: E402
from sklearn_binn import BINNClassifier, BINNSurvival, load_reactome  # noqa: E402
from sklearn_binn.datasets import make_pathway_mask  # noqa: E402


def harrell(event, time, risk):
    """Harrell's C by brute force over all pairs (ties in risk count 1/2)."""
    concordant = comparable = 0.0
    for i, j in itertools.permutations(range(len(time)), 2):
        if event[i] and time[i] < time[j]:
            comparable += 1
            concordant += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
    return concordant / comparable


def annotated_genes():
    """The genes that feed a pathway of the 3-level bundled Reactome."""
    full = load_reactome(n_levels=real_data.N_LEVELS)
    n_genes = len(full.feature_names)
    rows = [layer[:n_genes] for layer in full.layers] if full.skip_levels else full.layers[:1]
    return set(full.feature_names[sum(np.asarray(r.sum(axis=1)).ravel() for r in rows) > 0])


def survival_data(n=80, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    time = rng.exponential(np.exp(-1.5 * X[:, 0])) + 0.01
    return X, Surv.from_arrays(rng.random(n) < 0.8, time)


# ------------------------------------------------------------------- data
def test_require_names_the_extra_to_install():
    with pytest.raises(ImportError, match=r"pbmc68k.*sklearn-binn\[real\]"):
        real_data.require("surely_not_installed_module", "pbmc68k")


def test_unknown_cohort_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown cohort 'gse0'"):
        real_data.load_cohort("gse0")


def test_reactome_mask_keeps_exactly_the_annotated_genes_in_data_order():
    annotated = annotated_genes()
    genes = ["ZZZ_NOT_A_GENE", "TP53", "MDM2", "NOT_EITHER", "BRCA1", "EGFR"]
    mask, kept = real_data.reactome_mask(genes)
    assert kept == [g for g in genes if g in annotated]
    assert list(mask.feature_names) == kept


def test_pathway_names_are_reactome_names():
    assert real_data.pathway_names()["R-HSA-73894"] == "DNA Repair"


# ----------------------------------------------------------------- models
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_binn_params_counts_the_fitted_module_parameters(n_outputs):
    mask = make_pathway_mask(15, n_pathways=(5, 2), random_state=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 15)).astype(np.float32)
    if n_outputs == 1:
        est = BINNSurvival(mask, max_epochs=1, random_state=0).fit(
            X, Surv.from_arrays(rng.random(40) < 0.7, rng.random(40) + 0.1))
    else:
        est = BINNClassifier(mask, max_epochs=1, random_state=0).fit(X, np.arange(40) % 3)
    assert real_data.binn_params(mask, n_outputs) == real_data.count_params(est)


def test_dense_width_matches_the_parameter_budget():
    n_genes, n_outputs, budget = 50, 4, 2000
    width = real_data.dense_width(budget, n_genes, n_outputs)
    params = lambda w: n_genes * w + w + w * n_outputs + n_outputs  # noqa: E731
    assert abs(params(width) - budget) <= params(1) - params(0)
    assert real_data.dense_width(1, n_genes) == 1


def test_dense_mask_is_fully_connected():
    mask = real_data.dense_mask(["a", "b", "c", "d"], 3)
    np.testing.assert_array_equal(mask.layers[0].toarray(), np.ones((4, 3)))
    assert list(mask.feature_names) == ["a", "b", "c", "d"]


def test_rewired_model_keeps_degrees_but_moves_edges():
    mask = make_pathway_mask(30, n_pathways=(6,), random_state=0)
    model = real_data.make_model("binn_rewired", "survival", mask, {}, random_state=3)
    rewired = model[-1].mask.layers[0].toarray()
    original = mask.layers[0].toarray()
    np.testing.assert_array_equal(rewired.sum(axis=0), original.sum(axis=0))
    np.testing.assert_array_equal(rewired.sum(axis=1), original.sum(axis=1))
    assert (rewired != original).any()


def test_rewiring_the_reactome_mask_keeps_its_shape_and_degrees():
    mask, _ = real_data.reactome_mask(sorted(annotated_genes())[:400])
    rewired = real_data.make_model("binn_rewired", "survival", mask, {}, 0)[-1].mask
    assert rewired.skip_levels == mask.skip_levels
    for new, old in zip(rewired.layers, mask.layers):
        assert new.shape == old.shape
        np.testing.assert_array_equal(new.sum(axis=0), old.sum(axis=0))
        np.testing.assert_array_equal(new.sum(axis=1), old.sum(axis=1))
    assert any((new != old).nnz for new, old in zip(rewired.layers, mask.layers))


def test_unknown_model_is_a_clear_error():
    mask = make_pathway_mask(10, n_pathways=(3,), random_state=0)
    with pytest.raises(ValueError, match="Unknown model 'svm'"):
        real_data.make_model("svm", "survival", mask, {}, 0)


def test_tuned_coxnet_predicts_with_the_path_alpha_it_chose():
    X, y = survival_data(90, 6)
    model = real_data.TunedCoxnet(random_state=0).fit(X, y)
    assert model.alpha_ in set(model.model_.alphas_)
    reference = CoxnetSurvivalAnalysis(l1_ratio=0.5, alphas=[model.alpha_],
                                       fit_baseline_model=True, max_iter=10000)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    reference.fit(Z, y)
    np.testing.assert_allclose(model.predict(X), reference.predict(Z), rtol=1e-3, atol=1e-3)
    # the informative feature drives the risk
    assert harrell(y["event"], y["time"], model.predict(X)) > 0.7


def test_kaplan_meier_reference_matches_sksurv():
    X, y = survival_data(60, 2)
    times = np.linspace(y["time"].min() + 1e-3, y["time"].max() - 1e-3, 9)
    curves = real_data.KaplanMeier().fit(X, y).predict_survival_function(X[:2])
    expected = SurvivalFunctionEstimator().fit(y).predict_proba(times)
    for curve in curves:
        np.testing.assert_allclose(curve(times), expected)


# ---------------------------------------------------------------- metrics
def test_brier_times_stay_inside_both_follow_ups():
    _, y_train = survival_data(50, 2, seed=1)
    _, y_test = survival_data(30, 2, seed=2)
    times = real_data.brier_times(y_train, y_test)
    assert len(times) > 5 and np.all(np.diff(times) > 0)
    assert times.min() > y_test["time"].min()
    assert times.max() < min(y_test["time"].max(), y_train["time"].max())


def test_survival_metrics_against_brute_force_and_trapezoid():
    X, y = survival_data(100, 4)
    longest = int(np.argmax(y["time"]))  # in the test fold: beyond the training follow-up
    test = np.r_[longest, np.setdiff1d(np.arange(61, 100), [longest])[:39]]
    train = np.setdiff1d(np.arange(100), test)
    model = real_data.TunedCoxnet(random_state=0).fit(X[train], y[train])
    metrics = real_data.survival_metrics(model, X[train], y[train], X[test], y[test])
    risk = model.predict(X[test])
    assert metrics["c_index"] == pytest.approx(harrell(y["event"][test], y["time"][test], risk))
    # test patients followed beyond the training follow-up are left out of the Brier score
    inside = test[y["time"][test] <= y["time"][train].max()]
    assert 0 < len(inside) < len(test)  # this split has some
    times = real_data.brier_times(y[train], y[inside])
    probabilities = np.vstack([f(times) for f in model.predict_survival_function(X[inside])])
    _, scores = brier_score(y[train], y[inside], probabilities, times)
    expected = np.trapezoid(scores, times) / (times[-1] - times[0])
    assert metrics["ibs"] == pytest.approx(expected)


def test_classification_metrics_with_a_class_missing_from_the_fold():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array(["a", "b"])[(X[:, 0] > 0).astype(int)]
    model = LogisticRegression().fit(X, y)
    metrics = real_data.classification_metrics(model, X[:20], y[:20], ["a", "b", "c"])
    proba = model.predict_proba(X[:20])
    expected = log_loss(y[:20], np.column_stack([proba, np.zeros(20)]), labels=["a", "b", "c"])
    assert metrics["log_loss"] == pytest.approx(expected)
    assert metrics["accuracy"] == pytest.approx(np.mean(model.predict(X[:20]) == y[:20]))


# ------------------------------------------------------------- nested CV
def test_choose_recipe_prefers_a_trained_network_over_an_untrained_one():
    mask = make_pathway_mask(12, n_pathways=(3,), random_state=0)
    X, y = survival_data(90, 12)
    recipes = {"untrained": {"max_epochs": 0},
               "trained": {"max_epochs": 80, "lr": 0.01, "train_split": None}}
    best, scores = real_data.choose_recipe(mask, X, y, recipes, 3, 0)
    assert best == "trained" and scores["trained"] > scores["untrained"]
    again = real_data.choose_recipe(mask, X, y, recipes, 3, 0)
    assert again == (best, scores)  # same random_state, same choice and scores


def test_fold_indices_partition_each_repeat_stratified():
    y = np.array(["a"] * 30 + ["b"] * 10)
    for repeat in range(2):
        tests = [real_data.fold_indices(y, "classification", 5, 2, repeat, f)[1]
                 for f in range(5)]
        np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(40))
        assert all((y[t] == "b").sum() == 2 for t in tests)
    _, y_surv = survival_data(40, 2)
    train, test = real_data.fold_indices(y_surv, "survival", 4, 1, 0, 1)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 40


def test_evaluate_fold_survival_rows_and_recipe_scores():
    mask = make_pathway_mask(12, n_pathways=(3,), random_state=0)
    X, y = survival_data(90, 12)
    recipes = {"short": {"max_epochs": 2}, "long": {"max_epochs": 40, "lr": 0.01,
                                                    "train_split": None}}
    rows, recipe_rows = real_data.evaluate_fold(
        X, y, "survival", mask, np.arange(60), np.arange(60, 90), recipes=recipes,
        inner_folds=2, random_state=0, models=["binn", "dense", "kaplan_meier"])
    assert [r["model"] for r in rows] == ["binn", "dense", "kaplan_meier"]
    chosen = [r["recipe"] for r in recipe_rows if r["chosen"]]
    assert rows[0]["recipe"] == rows[1]["recipe"] == chosen[0]
    assert rows[2]["c_index"] == 0.5 and rows[2]["recipe"] == ""
    width = real_data.dense_width(real_data.binn_params(mask), 12)
    assert rows[1]["n_params"] == 12 * width + 2 * width + 1


# ----------------------------------------------------------------- tables
def test_summary_and_recipe_tables_against_hand_computation():
    cv = pd.DataFrame({
        "cohort": ["a"] * 4 + ["p"] * 2, "repeat": [0] * 6, "fold": [0, 0, 1, 1, 0, 1],
        "model": ["binn", "rsf", "binn", "rsf", "binn", "binn"],
        "c_index": [0.6, 0.5, 0.8, 0.7, np.nan, np.nan], "ibs": [0.2, 0.3, 0.1, 0.2, np.nan,
                                                                 np.nan],
        "accuracy": [np.nan] * 4 + [0.9, 0.7], "log_loss": [np.nan] * 4 + [0.3, 0.5],
        "fit_time_s": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "recipe": ["x", "", "y", "", "", ""],
        "inner_scores": ["x=0.6;y=0.5", "", "x=0.4;y=0.7", "", "", ""],
    })
    tables = real_data.summary_tables(cv)
    survival = tables["survival"].set_index("model")
    assert survival.loc["binn", "c_index"] == pytest.approx(0.7)
    assert survival.loc["binn", "c_index_sd"] == pytest.approx(np.std([0.6, 0.8], ddof=1))
    assert survival.loc["rsf", "fit_time_s"] == pytest.approx(3.0)
    assert tables["classification"]["accuracy"].tolist() == pytest.approx([0.8])
    recipes = real_data.recipe_table(cv).set_index("recipe")
    assert recipes["times_chosen"].to_dict() == {"x": 1, "y": 1}
    assert recipes.loc["y", "inner_c_index"] == pytest.approx(0.6)


def test_audit_table_counts_raw_and_adjusted_hits():
    audit = pd.DataFrame({"cohort": ["a"] * 4, "layer": [0, 0, 0, 1],
                          "name": ["P", "Q", "R", "S"], "p_value": [0.01, 0.04, 0.3, 0.02],
                          "p_adjusted": [0.03, 0.06, 0.3, 0.02],
                          "z_score": [2.2, 2.0, np.nan, 0.5], "audit_time_s": [5.0] * 4})
    table = real_data.audit_table(audit).set_index("layer")
    assert table.loc[0, "n_p_below_0.05"] == 2
    assert table.loc[0, "n_p_adjusted_below_0.05"] == 1
    # normal one-sided p of z 2.2 and 2.0: 0.0139, 0.0228; BH over the two finite ones by hand
    p = [0.5 * math.erfc(2.2 / math.sqrt(2)), 0.5 * math.erfc(2.0 / math.sqrt(2))]
    by_hand = [min(p[0] * 2 / 1, p[1] * 2 / 2), p[1] * 2 / 2]
    assert table.loc[0, "n_z_adjusted_below_0.05"] == sum(q <= 0.05 for q in by_hand) == 2
    assert table.loc[1, "n_z_adjusted_below_0.05"] == 0
    assert table.loc[0, "top_pathways"].startswith("P (0.03, z 2.2)")
    assert table.loc[1, "n_pathways"] == 1


# ------------------------------------------------------------ end to end
@pytest.fixture
def synthetic_cohort(monkeypatch):
    """gse1992 replaced by 70 synthetic patients on 40 real Reactome genes."""
    genes = sorted(annotated_genes())[:40]
    X, y = survival_data(70, 40)

    def fake(name):
        return pd.DataFrame(X.astype(np.float64), columns=genes), y, "survival"

    monkeypatch.setattr(real_data, "load_cohort", fake)
    real_data.prepared.cache_clear()
    yield
    real_data.prepared.cache_clear()


def test_main_writes_tables_figures_and_resumes(synthetic_cohort, tmp_path, capsys):
    argv = ["--cohorts", "gse1992", "--folds", "2", "--repeats", "1", "--inner-folds", "2",
            "--recipes", "full_batch", "--audit-repeats", "2", "--audit-null", "2",
            "--out", str(tmp_path)]
    assert real_data.main(argv) == 0
    out = capsys.readouterr().out
    assert "Stability audit" in out and str(tmp_path.resolve()) in out
    cv = pd.read_csv(tmp_path / "cv.csv")
    assert len(cv) == 2 * len(real_data.SURVIVAL_MODELS)
    assert set(cv["model"]) == set(real_data.SURVIVAL_MODELS)
    audit = pd.read_csv(tmp_path / "audit.csv")
    assert {"p_value", "p_adjusted", "name"} <= set(audit.columns)
    for name in ("summary_survival.csv", "summary_recipes.csv", "summary_audit.csv",
                 "run_info.csv", "real_data_survival.png", "audit_gse1992.txt"):
        assert (tmp_path / name).stat().st_size > 0
    before = (tmp_path / "cv.csv").read_text()
    assert real_data.main(argv) == 0  # resumes: nothing recomputed
    assert (tmp_path / "cv.csv").read_text() == before


# ------------------------------------------------------- the real cohorts
def test_survset_cohort_loads_as_documented():
    pytest.importorskip("SurvSet", reason="needs the extra: pip install 'sklearn-binn[real]'")
    real_data.load_cohort.cache_clear()
    X, y, task = real_data.load_cohort("gse1992")
    assert task == "survival" and X.shape == (124, 15528) and int(y["event"].sum()) == 35
    _, kept = real_data.reactome_mask(X.columns)
    # 8,998 of the symbols are in the whole bundled Reactome, fewer reach its top 3 levels
    assert len(set(X.columns) & set(load_reactome().feature_names)) == 8998
    assert len(kept) == len(set(X.columns) & annotated_genes()) > 8500


def test_pbmc_cohort_loads_as_documented():
    pytest.importorskip("scanpy", reason="needs the extra: pip install 'sklearn-binn[real]'")
    X, y, task = real_data.load_cohort("pbmc68k")
    assert task == "classification" and X.shape == (700, 765) and len(np.unique(y)) == 10
    _, kept = real_data.reactome_mask(X.columns)
    assert len(set(X.columns) & set(load_reactome().feature_names)) == 505
    assert len(kept) == len(set(X.columns) & annotated_genes())
