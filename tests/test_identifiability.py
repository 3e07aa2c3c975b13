"""Recovery metrics, alignment, chance level, output fit and the identifiability scorer."""

import numpy as np
import pytest
import torch
from scipy.special import expit
from sklearn.metrics import check_scoring, log_loss
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_binn import (
    BINNClassifier,
    BINNRegressor,
    IdentifiabilityScorer,
    PathwayMask,
    TeacherDataset,
    align_to_teacher,
    chance_level,
    output_fit,
    recovery_report,
)
from sklearn_binn.datasets import make_pathway_mask

MASK = make_pathway_mask(30, n_pathways=(8, 4, 2), overlap=1.5, random_state=0)
ACT = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "sigmoid": expit,
       "identity": lambda z: z}


def _dense_params(est):
    """An estimator's weights (dense, (n_in, n_out)) and biases, pathway layers first."""
    weights = [w.toarray() for w in est.get_weights(include_output=True)]
    module = est.module_
    layers = [*module.pathway_layers, *module.head_layers, module.output]
    return weights, [layer.bias.detach().double().numpy().copy() for layer in layers]


def _set_dense_params(est, weights, biases):
    module = est.module_
    with torch.no_grad():
        for layer, W, b in zip(module.pathway_layers, weights, biases):
            layer.weight.copy_(torch.as_tensor(W[layer.rows.numpy(), layer.cols.numpy()]))
            layer.bias.copy_(torch.as_tensor(b))
        dense = [*module.head_layers, module.output]
        depth = len(module.pathway_layers)
        for layer, W, b in zip(dense, weights[depth:], biases[depth:]):
            layer.weight.copy_(torch.as_tensor(W.T))
            layer.bias.copy_(torch.as_tensor(b))


def _numpy_forward(weights, biases, depth, activation, X):
    h = X
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = h @ W + b
        if k == len(weights) - 1:
            return z
        h = ACT[activation](z) if k < depth else np.maximum(z, 0)


def _transformed_teacher(teacher, rng):
    """The teacher with a random symmetry applied to every pathway node of every layer.

    tanh: sign flips; relu: positive scales; identity: non-zero scales;
    sigmoid: sign flips with ``sigmoid(-z) = 1 - sigmoid(z)`` moved into the
    parents' biases. The function is unchanged.
    """
    est = teacher.to_estimator()
    weights, biases = _dense_params(est)
    activation = teacher.activation
    for k in range(teacher.mask.depth):
        n = weights[k].shape[1]
        if activation in ("tanh", "sigmoid"):
            factor = rng.choice([-1.0, 1.0], size=n)
            factor[0] = -1.0  # at least one flip per layer
        elif activation == "relu":
            factor = rng.uniform(0.2, 5.0, size=n)
        else:
            factor = rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.2, 5.0, size=n)
        weights[k] = weights[k] * factor
        biases[k] = biases[k] * factor
        if activation == "sigmoid":
            flipped = factor < 0
            biases[k + 1] = biases[k + 1] + weights[k + 1][flipped].sum(axis=0)
            weights[k + 1][flipped] *= -1.0
        else:
            weights[k + 1] = weights[k + 1] / factor[:, None]
    _set_dense_params(est, weights, biases)
    return est


@pytest.fixture(scope="module")
def regression_data():
    teacher = TeacherDataset(MASK, random_state=0)
    X, y = teacher.sample(400, random_state=1)
    X_test, y_test = teacher.sample(300, random_state=2)
    return teacher, X, y, X_test, y_test


# ------------------------------------------------------------------ ceilings
@pytest.mark.parametrize("task", ["regression", "classification", "survival"])
def test_teacher_scores_exactly_one_against_itself(task):
    teacher = TeacherDataset(MASK, task=task, random_state=0)
    X, y = teacher.sample(300, random_state=1)
    est = teacher.to_estimator()
    report = recovery_report(est, teacher, X)
    assert (report.nodes["weight_recovery"] == 1.0).all()
    assert (report.nodes["activation_recovery"] == 1.0).all()
    assert IdentifiabilityScorer(teacher)(est, X, y) == 1.0
    assert IdentifiabilityScorer(teacher, "activations", layer=2)(est, X, y) == 1.0
    fit = output_fit(est, teacher, X, y)
    assert fit["excess_loss"] == 0.0 and fit["r2_vs_teacher"] == 1.0


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
def test_symmetries_at_every_layer_keep_the_score_at_one(activation):
    teacher = TeacherDataset(MASK, activation=activation, random_state=0)
    X, y = teacher.sample(300, random_state=1)
    student = _transformed_teacher(teacher, np.random.default_rng(0))
    # the same function ...
    np.testing.assert_allclose(student.predict(X), teacher.predict(X), rtol=1e-4, atol=1e-5)
    # ... other weights at every layer ...
    for k in range(MASK.depth):
        assert not np.allclose(student.get_weights()[k].data, teacher.weights[k].data)
    # ... and full recovery once aligned
    report = recovery_report(student, teacher, X)
    np.testing.assert_allclose(report.nodes["weight_recovery"], 1.0, atol=1e-6)
    np.testing.assert_allclose(report.nodes["activation_recovery"], 1.0, atol=1e-6)
    alignment = align_to_teacher(student, teacher)
    for a, b in zip(alignment.weights[:MASK.depth], teacher.weights):
        np.testing.assert_allclose(a.toarray(), b.toarray(), rtol=1e-5, atol=1e-6)
    for a, b in zip(alignment.biases, teacher.biases):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_unaligned_parent_cosine_is_not_invariant():
    """Why align: a plain |cosine| per layer-1 node drops under child sign flips."""
    teacher = TeacherDataset(MASK, random_state=0)
    X, _ = teacher.sample(200, random_state=1)
    student = _transformed_teacher(teacher, np.random.default_rng(0))
    Ws, Wt = student.get_weights()[1].toarray(), teacher.weights[1].toarray()
    plain = np.abs((Ws * Wt).sum(0)) / (np.linalg.norm(Ws, axis=0) * np.linalg.norm(Wt, axis=0))
    assert plain.mean() < 0.9  # unaligned: looks poorly recovered
    aligned = recovery_report(student, teacher, X).layers.loc[1, "weight_recovery"]
    assert aligned == pytest.approx(1.0, abs=1e-6)


def test_aligned_network_computes_the_same_function():
    """Alignment only applies symmetries: the aligned parameters give the student's output."""
    teacher = TeacherDataset(MASK, head_layer_sizes=(3,), random_state=0)
    X, y = teacher.sample(100, random_state=1)
    for activation in ["tanh", "relu", "sigmoid", "identity"]:
        student = BINNRegressor(MASK, activation=activation, head_layer_sizes=(3,),
                                max_epochs=0, random_state=1).fit(X, y)
        alignment = align_to_teacher(student, teacher)
        out = _numpy_forward([w.toarray() for w in alignment.weights], alignment.biases,
                             MASK.depth, activation, X)
        np.testing.assert_allclose(out[:, 0], student.predict(X), rtol=1e-4, atol=1e-5)
        assert len(alignment.transforms) == MASK.depth


# ---------------------------------------------------------------- lower scores
def test_perturbed_teacher_scores_lower(regression_data):
    teacher, X, y, X_test, _ = regression_data
    rng = np.random.default_rng(0)
    scores = []
    for size in [0.0, 0.3, 1.0]:
        est = teacher.to_estimator()
        with torch.no_grad():
            for layer in est.module_.pathway_layers:
                noise = rng.standard_normal(layer.n_edges)
                layer.weight.add_(size * torch.as_tensor(noise, dtype=torch.float32))
        scores.append([IdentifiabilityScorer(teacher, target)(est, X_test, None)
                       for target in ("weights", "activations")])
    scores = np.array(scores)
    assert np.all(scores[0] == 1.0)
    assert np.all(np.diff(scores, axis=0) < 0)  # more perturbation, lower scores


def test_exchanging_twin_nodes_is_not_forgiven():
    """Two nodes with the same genes and the same parent: swapping them keeps the
    function, but the scores compare node with node and must drop."""
    first = np.zeros((6, 3))
    first[[0, 1, 2], 0] = first[[0, 1, 2], 1] = 1  # nodes 0 and 1: twins
    first[[3, 4, 5], 2] = 1
    second = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    mask = PathwayMask([first, second])
    teacher = TeacherDataset(mask, random_state=0)
    X, _ = teacher.sample(300, random_state=1)
    student = teacher.to_estimator()
    weights, biases = _dense_params(student)
    swap = [1, 0, 2]
    weights[0], biases[0] = weights[0][:, swap], biases[0][swap]
    weights[1] = weights[1][swap]
    _set_dense_params(student, weights, biases)
    np.testing.assert_allclose(student.predict(X), teacher.predict(X), rtol=1e-5, atol=1e-6)
    report = recovery_report(student, teacher, X)
    twins = report.nodes.iloc[:2]
    assert (twins["weight_recovery"] < 0.99).all()
    assert (twins["activation_recovery"] < 0.99).all()
    assert report.nodes.iloc[2]["weight_recovery"] == 1.0


# ------------------------------------------------------------------- chance
def test_chance_level_matches_a_monte_carlo_of_random_vectors(regression_data):
    """Layer 0 of an untrained tanh student: |cos| of U(-1/sqrt(d), 1/sqrt(d)) vectors."""
    teacher, _, _, X_test, _ = regression_data
    chance = chance_level(teacher, X_test, n_draws=20, random_state=0)
    rng = np.random.default_rng(1)
    W = teacher.weights[0].tocsc()
    expected = []
    for j in range(W.shape[1]):
        wt = W.data[W.indptr[j]:W.indptr[j + 1]]
        u = rng.uniform(-1, 1, size=(20000, len(wt)))
        cosines = np.abs(u @ wt) / (np.linalg.norm(u, axis=1) * np.linalg.norm(wt))
        expected.append(cosines.mean())
    layer0 = chance.layers.loc[0]
    tolerance = 3 * layer0["weight_chance_sd"] / np.sqrt(20) + 0.01
    assert abs(layer0["weight_chance"] - np.mean(expected)) < tolerance


def test_untrained_student_scores_at_chance(regression_data):
    teacher, X, y, X_test, _ = regression_data
    student = BINNRegressor(MASK, max_epochs=0, random_state=12345).fit(X, y)
    report = recovery_report(student, teacher, X_test, chance=True, n_chance_draws=20,
                             random_state=0)
    layers = report.layers
    for target in ("weight", "activation"):
        gap = (layers[f"{target}_recovery"] - layers[f"{target}_chance"]).abs()
        assert (gap <= 3 * layers[f"{target}_chance_sd"] + 1e-9).all(), layers
    assert set(report.summary.index) == {
        "weight_recovery", "activation_recovery", "weight_chance", "weight_chance_sd",
        "activation_chance", "activation_chance_sd"}


def test_chance_draws_are_the_students_own_initialisation(regression_data):
    """A chance draw is the start of a real fit: one epoch at lr=1e-12 moves nothing."""
    teacher, X, y, X_test, _ = regression_data
    draw = chance_level(teacher, X_test, estimator=BINNRegressor(MASK), n_draws=1,
                        random_state=0)
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))  # the draw's seed
    started = BINNRegressor(MASK, max_epochs=1, lr=1e-12, random_state=seed,
                            train_split=None).fit(X, y)
    report = recovery_report(started, teacher, X_test)
    np.testing.assert_allclose(draw.nodes["weight_chance"], report.nodes["weight_recovery"])
    np.testing.assert_allclose(draw.nodes["activation_chance"],
                               report.nodes["activation_recovery"])
    other = BINNRegressor(MASK, max_epochs=0, random_state=seed + 1).fit(X, y)
    assert not np.allclose(recovery_report(other, teacher, X_test).nodes["weight_recovery"],
                           report.nodes["weight_recovery"])


# ------------------------------------------------------------------ reports
def test_report_layout_and_influence(regression_data):
    teacher, _, _, X_test, _ = regression_data
    report = recovery_report(teacher.to_estimator(), teacher, X_test)
    nodes = report.nodes
    assert list(nodes["layer"]) == [0] * 8 + [1] * 4 + [2] * 2
    assert list(nodes["node"]) == [n for names in MASK.node_names for n in names]
    np.testing.assert_array_equal(nodes["n_inputs"],
                                  np.concatenate([np.diff(m.tocsc().indptr) for m in MASK.layers]))
    # influence = norm of outgoing weights x activation sd, recomputed densely
    acts = teacher.activations(X_test)
    for k in range(MASK.depth):
        W_next = teacher.weights[k + 1].toarray()
        expected = np.linalg.norm(W_next, axis=1) * acts[k].std(axis=0)
        np.testing.assert_allclose(nodes.loc[nodes["layer"] == k, "influence"], expected)
    assert list(report.layers["n_nodes"]) == [8, 4, 2]
    assert report.summary["weight_recovery"] == 1.0
    assert "weight_influence_spearman" in report.layers


def test_relu_scores_keep_the_sign():
    """For ReLU only positive scales are symmetries: a mirrored node scores -1."""
    mask = PathwayMask([np.eye(4)[:, :2] + np.eye(4)[:, 2:4]], feature_names=list("abcd"))
    teacher = TeacherDataset(mask, activation="relu", random_state=0)
    X, _ = teacher.sample(500, random_state=1)
    student = teacher.to_estimator()
    with torch.no_grad():
        student.module_.pathway_layers[0].weight.neg_()
        student.module_.pathway_layers[0].bias.neg_()
    report = recovery_report(student, teacher, X, pre_activation=True)
    np.testing.assert_allclose(report.nodes["weight_recovery"], -1.0)
    np.testing.assert_allclose(report.nodes["activation_recovery"], -1.0, atol=1e-6)
    tanh = TeacherDataset(mask, random_state=0)
    flipped = tanh.to_estimator()
    with torch.no_grad():
        flipped.module_.pathway_layers[0].weight.neg_()
    assert IdentifiabilityScorer(tanh)(flipped, X, None) == 1.0


def test_batch_norm_is_folded_into_the_weights(regression_data):
    teacher, X, y, X_test, _ = regression_data
    student = BINNRegressor(MASK, batch_norm=True, max_epochs=2, random_state=0).fit(X, y)
    alignment = align_to_teacher(student, teacher)
    h = X_test
    pres = student.pathway_activations(X_test, pre_activation=True, as_frame=False)
    for k in range(MASK.depth):
        # aligned pre-activations are the student's, times the node transforms
        z = h @ alignment.weights[k].toarray() + alignment.biases[k]
        np.testing.assert_allclose(z, pres[k] * alignment.transforms[k], rtol=1e-4, atol=1e-4)
        h = np.tanh(z)


# ------------------------------------------------------------- scorer in sklearn
def test_scorer_in_cross_validate(regression_data):
    teacher, X, y, _, _ = regression_data
    scoring = {
        "r2": "r2",
        "weights": IdentifiabilityScorer(teacher),
        "activations": IdentifiabilityScorer(teacher, "activations"),
        "layer0": IdentifiabilityScorer(teacher, layer=0),
    }
    student = BINNRegressor(MASK, max_epochs=3, lr=1e-2, random_state=0)
    cv = cross_validate(student, X, y, cv=KFold(2), scoring=scoring,
                        return_estimator=True, return_indices=True)
    for i, est in enumerate(cv["estimator"]):
        X_fold = X[cv["indices"]["test"][i]]
        report = recovery_report(est, teacher, X_fold)
        assert cv["test_weights"][i] == pytest.approx(report.summary["weight_recovery"])
        assert cv["test_activations"][i] == pytest.approx(report.summary["activation_recovery"])
        assert cv["test_layer0"][i] == pytest.approx(report.layers.loc[0, "weight_recovery"])
        assert 0 < cv["test_weights"][i] < 1
    scorer = check_scoring(student, scoring=scoring["weights"])
    assert scorer(cv["estimator"][0], X, y) == cv["test_weights"][0]


def test_scorer_in_grid_search_over_depth(regression_data):
    teacher, X, y, _, _ = regression_data
    search = GridSearchCV(
        BINNRegressor(MASK, max_epochs=2, random_state=0),
        {"depth": [1, 3]},
        scoring={"weights": IdentifiabilityScorer(teacher), "r2": "r2"},
        refit="weights", cv=2,
    ).fit(X, y)
    means = search.cv_results_["mean_test_weights"]
    assert np.all(np.isfinite(means))
    assert search.best_index_ == int(np.argmax(means))
    # depth 1 is scored on its one layer
    shallow = BINNRegressor(MASK, depth=1, max_epochs=2, random_state=0).fit(X, y)
    assert IdentifiabilityScorer(teacher)(shallow, X, y) == \
        IdentifiabilityScorer(teacher, layer=0)(shallow, X, y)
    with pytest.raises(ValueError, match="cannot score a student with 1 pathway layer"):
        IdentifiabilityScorer(teacher, layer=2)(shallow, X, y)


def test_pipeline_passes_X_through_its_steps(regression_data):
    """StandardScaler in front: a BINN carrying the teacher folded with the scaler
    has the teacher's activations on raw X, so it scores 1.0 on activations."""
    teacher, X, y, X_test, _ = regression_data
    rng = np.random.default_rng(0)  # a scaler far from the identity
    scaler = StandardScaler().fit(X * rng.uniform(0.3, 3, 30) + rng.normal(0, 2, 30))
    est = teacher.to_estimator()
    weights, biases = _dense_params(est)
    biases[0] = biases[0] + scaler.mean_ @ weights[0]
    weights[0] = weights[0] * scaler.scale_[:, None]
    _set_dense_params(est, weights, biases)
    pipe = Pipeline([("scale", scaler), ("binn", est)])
    np.testing.assert_allclose(pipe.predict(X_test), teacher.predict(X_test), rtol=1e-4, atol=1e-5)
    activations = IdentifiabilityScorer(teacher, "activations")
    assert activations(pipe, X_test, None) == pytest.approx(1.0, abs=1e-6)
    assert activations(est, X_test, None) < 0.99  # without the scaler it differs
    # a trained pipeline: its final step sees scaled X, the teacher raw X
    trained = Pipeline([("scale", StandardScaler()),
                        ("binn", BINNRegressor(MASK, max_epochs=2, random_state=0))]).fit(X, y)
    student_acts = trained[-1].pathway_activations(trained[:-1].transform(X_test), as_frame=False)
    expected = np.mean([
        np.mean([abs(np.corrcoef(s[:, j], t[:, j])[0, 1]) for j in range(s.shape[1])])
        for s, t in zip(student_acts, teacher.activations(X_test))
    ])
    assert activations(trained, X_test, None) == pytest.approx(expected, rel=1e-10)
    report = recovery_report(trained, teacher, X_test, chance=True, n_chance_draws=2,
                             random_state=0)
    assert report.summary["activation_recovery"] == pytest.approx(
        activations(trained, X_test, None), rel=1e-12
    )


# ---------------------------------------------------------------- output fit
def test_output_fit_regression(regression_data):
    teacher = TeacherDataset(MASK, noise=0.5, random_state=0)
    X, y = teacher.sample(400, random_state=1)
    X_test, y_test = teacher.sample(2000, random_state=2)
    student = BINNRegressor(MASK, max_epochs=3, random_state=0).fit(X, y)
    fit = output_fit(student, teacher, X_test, y_test)
    pred, truth = student.predict(X_test), teacher.predict(X_test)
    assert fit["loss"] == "mse"
    assert fit["teacher_loss"] == pytest.approx(np.mean((y_test - truth) ** 2))
    assert fit["teacher_loss"] == pytest.approx(0.25 * teacher.output_std[0] ** 2, rel=0.1)
    assert fit["student_loss"] == pytest.approx(np.mean((y_test - pred) ** 2))
    assert fit["excess_loss"] > 0
    r2 = 1 - np.sum((truth - pred) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert fit["r2_vs_teacher"] == pytest.approx(r2)


def test_output_fit_classification():
    teacher = TeacherDataset(MASK, task="classification", n_classes=3, random_state=0)
    X, y = teacher.sample(300, random_state=1)
    student = BINNClassifier(MASK, max_epochs=2, random_state=0).fit(X, y)
    fit = output_fit(student, teacher, X, y)
    proba = teacher.predict_proba(X)
    assert fit["teacher_loss"] == pytest.approx(-np.mean(np.log(proba[np.arange(len(y)), y])))
    assert fit["student_loss"] == pytest.approx(log_loss(y, student.predict_proba(X)))
    s, t = student.decision_function(X), teacher.predict(X)
    s, t = s - s.mean(1, keepdims=True), t - t.mean(1, keepdims=True)
    r2 = 1 - np.sum((t - s) ** 2) / np.sum((t - t.mean()) ** 2)
    assert fit["r2_vs_teacher"] == pytest.approx(r2)


def test_output_fit_survival_partial_likelihood():
    teacher = TeacherDataset(MASK, task="survival", censoring=0.3, random_state=0)
    X, y = teacher.sample(300, random_state=1)
    fit = output_fit(teacher.to_estimator(), teacher, X, y)
    # the negative Cox partial log-likelihood per event (continuous times: no ties)
    eta, time, event = teacher.predict(X), y["time"], y["event"]
    at_risk = time[None, :] >= time[:, None]
    log_risk_sets = np.log((at_risk * np.exp(eta)[None, :]).sum(axis=1))
    expected = -np.sum((eta - log_risk_sets)[event]) / event.sum()
    assert fit["loss"] == "cox_nll"
    assert fit["teacher_loss"] == pytest.approx(expected, rel=1e-6)
    assert fit["excess_loss"] == 0.0


# -------------------------------------------------------------------- errors
def test_errors(regression_data):
    teacher, X, y, _, _ = regression_data
    with pytest.raises(TypeError, match="teacher must be a TeacherDataset"):
        IdentifiabilityScorer(object())
    with pytest.raises(ValueError, match="target must be 'weights' or 'activations'"):
        IdentifiabilityScorer(teacher, "biases")
    with pytest.raises(ValueError, match="layer must be None or an int between 0 and 2"):
        IdentifiabilityScorer(teacher, layer=3)
    with pytest.raises(TypeError, match="Pipeline ending in one; got StandardScaler"):
        IdentifiabilityScorer(teacher)(StandardScaler().fit(X), X, y)
    other = make_pathway_mask(30, n_pathways=(8, 4, 2), overlap=1.5, random_state=1)
    student = BINNRegressor(other, max_epochs=0, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="pathway layer 0 is wired differently"):
        recovery_report(student, teacher, X)
    with pytest.raises(ValueError, match="positive int"):
        chance_level(teacher, X, n_draws=0)


def test_scorer_and_teacher_pickle(regression_data):
    """GridSearchCV(n_jobs=...) ships scorers to workers by pickling."""
    import pickle

    teacher, X, y, X_test, _ = regression_data
    student = BINNRegressor(MASK, max_epochs=2, random_state=0).fit(X, y)
    scorer = IdentifiabilityScorer(teacher, "activations", layer=1)
    again = pickle.loads(pickle.dumps(scorer))
    assert again(student, X_test, None) == scorer(student, X_test, None)
    clone = pickle.loads(pickle.dumps(teacher))
    np.testing.assert_array_equal(clone.sample(5, random_state=0)[1],
                                  teacher.sample(5, random_state=0)[1])


def test_dead_teacher_node_is_left_out_not_scored_zero():
    """A constant teacher activation has nothing to recover: NaN, excluded from the means."""
    from sklearn_binn.datasets import make_pathway_mask

    teacher = TeacherDataset(make_pathway_mask(30, n_pathways=(8, 4), random_state=0),
                             random_state=0)
    layer = teacher.module.pathway_layers[0]
    with torch.no_grad():
        layer.weight[layer.cols == 2] = 0.0
    X, _ = teacher.sample(200, random_state=1)
    report = recovery_report(teacher.to_estimator(), teacher, X)
    nodes = report.nodes[report.nodes["layer"] == 0]
    assert np.isnan(nodes["activation_recovery"].iloc[2])
    assert np.allclose(nodes["activation_recovery"].drop(nodes.index[2]), 1.0)
    assert report.layers.loc[0, "activation_recovery"] == pytest.approx(1.0)


def test_scorer_leaves_out_a_node_the_teacher_keeps_constant_as_the_report_does():
    # P2 reads only gene c; with c constant on X its teacher activation is
    # constant, its correlation undefined (NaN): left out, not averaged in
    from sklearn_binn import IdentifiabilityScorer, PathwayMask, TeacherDataset, recovery_report

    mask = PathwayMask.from_gene_sets({"P1": ["a", "b"], "P2": ["c"], "P3": ["a", "c", "d"]})
    teacher = TeacherDataset(mask, random_state=0)
    X, y = teacher.sample(200, random_state=1)
    X[:, list(mask.feature_names).index("c")] = 0.5
    student = teacher.to_estimator()
    report = recovery_report(student, teacher, X)
    expected = report.nodes.loc[report.nodes["layer"] == 0, "activation_recovery"]
    assert expected.isna().sum() == 1
    score = IdentifiabilityScorer(teacher, target="activations")(student, X)
    assert np.isfinite(score)
    assert score == pytest.approx(expected.mean(skipna=True))
    assert IdentifiabilityScorer(teacher, target="activations", layer=0)(student, X) == (
        pytest.approx(expected.mean(skipna=True))
    )
