"""Tests of the teacher–student study (:mod:`sklearn_binn.study`) and its scripts."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # as `python benchmarks/<script>.py` does

import regime_map  # noqa: E402
import teacher_student  # noqa: E402
from sklearn_binn.study import _cells as _study  # noqa: E402  (the private helpers under test)
from sklearn_binn.study import (  # noqa: E402
    KEY_COLUMNS,
    build_mask,
    build_teacher,
    make_cell,
    reactome_branch,
    recovery_table,
    run_cell,
    select_cells,
)
from sklearn_binn import BINNRegressor  # noqa: E402

TINY = {"n_genes": 12, "samples_per_edge": 5.0, "max_epochs": 5, "n_test": 200,
        "n_chance_draws": 3}


def frame_of(cell, rows):
    return pd.DataFrame([{**cell, **row} for row in rows])


@pytest.fixture(scope="module")
def tiny_rows():
    cell = make_cell(task="regression", depth=2, **TINY)
    return cell, run_cell(cell)


# ----------------------------------------------------------------- the worker
def test_teacher_scores_exactly_one_against_itself(tiny_rows):
    cell, rows = tiny_rows
    teacher = [r for r in rows if r["reference"] == "teacher"]
    assert [r["layer"] for r in teacher] == [0, 1]
    for row in teacher:
        assert row["weight_recovery"] == 1.0
        assert row["activation_recovery"] == 1.0
        assert row["excess_loss"] == 0.0
        assert row["r2_vs_teacher"] == 1.0
        assert row["output_corr2"] == pytest.approx(1.0, abs=1e-12)
    # one row per reference and layer, in that order
    assert [(r["reference"], r["layer"]) for r in rows] == [
        (ref, k) for ref in ("teacher", "chance", "student") for k in (0, 1)
    ]


def test_same_seed_same_rows_other_seed_other_rows(tiny_rows):
    cell, rows = tiny_rows
    again = run_cell(cell)
    pd.testing.assert_frame_equal(pd.DataFrame(rows).drop(columns=["fit_time_s", "cell_time_s"]),
                                  pd.DataFrame(again).drop(columns=["fit_time_s", "cell_time_s"]))
    other = run_cell({**cell, "seed": 1})
    assert other[-1]["weight_recovery"] != rows[-1]["weight_recovery"]


def test_student_and_chance_rows_match_a_dense_recomputation():
    """Refit the same student by hand; score it with plain numpy and sklearn."""
    cell = make_cell(task="regression", depth=1, n_genes=16, samples_per_edge=5.0,
                     max_epochs=40, n_test=300, n_chance_draws=2)
    rows = {r["reference"]: r for r in run_cell(cell)}
    seeds = _study._seeds(cell["seed"])
    mask = build_mask(cell)
    teacher = build_teacher(cell, mask)
    X, y = teacher.sample(rows["student"]["n_train_used"], random_state=seeds["train"])
    X_test, y_test = teacher.sample(cell["n_test"], random_state=seeds["test"])
    params = _study._student_params(cell, rows["student"]["max_epochs_used"], seeds["student"])
    student = BINNRegressor(mask, activation="tanh", **params).fit(X, y)

    # weights: per node |cosine| over the node's edges (depth 1: only signs to align)
    Ws, Wt = student.get_weights()[0].toarray(), teacher.weights[0].toarray()
    on = mask.layers[0].toarray() > 0
    cosines = [abs(Ws[on[:, j], j] @ Wt[on[:, j], j])
               / np.linalg.norm(Ws[on[:, j], j]) / np.linalg.norm(Wt[on[:, j], j])
               for j in range(Ws.shape[1])]
    assert rows["student"]["weight_recovery"] == pytest.approx(np.mean(cosines), abs=1e-6)
    # activations: per node |Pearson r| on the test sample
    a_s = np.tanh(X_test @ Ws + student.module_.pathway_layers[0].bias.detach().numpy())
    a_t = teacher.activations(X_test)[0]
    r = [abs(np.corrcoef(a_s[:, j], a_t[:, j])[0, 1]) for j in range(a_t.shape[1])]
    assert rows["student"]["activation_recovery"] == pytest.approx(np.mean(r), abs=1e-5)
    # output fit
    pred = student.predict(X_test)
    assert rows["student"]["r2"] == pytest.approx(r2_score(y_test, pred), abs=1e-9)
    corr = np.corrcoef(pred, teacher.predict(X_test))[0, 1]
    assert rows["student"]["output_corr2"] == pytest.approx(corr**2, abs=1e-9)
    assert rows["student"]["epochs"] == len(student.history_)
    # the chance row's output fit is the student's own starting point
    start = BINNRegressor(mask, activation="tanh", **{**params, "max_epochs": 0}).fit(X, y)
    assert rows["chance"]["r2"] == pytest.approx(r2_score(y_test, start.predict(X_test)),
                                                 abs=1e-9)


def test_trained_student_beats_chance_on_an_identifiable_cell():
    # noiseless tanh regression, one layer, 10 samples per edge: an identifiable cell
    cell = make_cell(task="regression", depth=1, n_genes=20, samples_per_edge=10.0,
                     max_epochs=150, n_test=300, n_chance_draws=5)
    row = recovery_table(frame_of(cell, run_cell(cell))).iloc[0]
    for target in ("weight", "activation"):
        assert row[f"{target}_student"] > row[f"{target}_chance"] + 3 * row[f"{target}_chance_sd"]
    assert row["output_corr2"] > 0.9


@pytest.mark.slow
def test_trained_student_recovers_an_identifiable_teacher_with_the_default_budget():
    # Adam at lr 1e-2 (at lr 1e-3 the default budget stops at weight recovery ~0.8 here)
    # disjoint gene sets ("tree"): the teacher is identifiable, the student must find it
    cell = make_cell(task="regression", hierarchy="tree", depth=1, n_genes=20,
                     samples_per_edge=30.0, lr=1e-2, n_test=500, n_chance_draws=5)
    row = recovery_table(frame_of(cell, run_cell(cell))).iloc[0]
    for target in ("weight", "activation"):
        assert row[f"{target}_student"] > row[f"{target}_chance"] + 4 * row[f"{target}_chance_sd"]
        assert row[f"{target}_above_chance"] > 0.95
    assert row["output_corr2"] > 0.99


def test_teacher_init_starts_at_the_teacher():
    cell = make_cell(task="regression", depth=2, init="teacher", **{**TINY, "max_epochs": 3})
    student = [r for r in run_cell(cell) if r["reference"] == "student"]
    # three epochs at lr 1e-3 from the teacher on noiseless data: still the teacher
    for row in student:
        assert row["weight_recovery"] > 0.99
        assert row["activation_recovery"] > 0.99


@pytest.mark.parametrize("task", ["classification", "survival"])
def test_task_metrics_are_the_estimators_own(task):
    cell = make_cell(task=task, depth=1, noise=0.5, **TINY)
    rows = {r["reference"]: r for r in run_cell(cell)}
    teacher = build_teacher(cell)
    X_test, y_test = teacher.sample(cell["n_test"], random_state=_study._seeds(0)["test"])
    est = teacher.to_estimator()
    if task == "classification":
        from sklearn.metrics import roc_auc_score

        assert rows["teacher"]["auc"] == pytest.approx(
            roc_auc_score(y_test, teacher.predict(X_test)))
        assert np.isnan(rows["teacher"]["cindex"])
    else:
        from sksurv.metrics import concordance_index_censored

        c = concordance_index_censored(y_test["event"], y_test["time"], est.predict(X_test))[0]
        assert rows["teacher"]["cindex"] == pytest.approx(c)
        assert np.isnan(rows["teacher"]["auc"])


# ------------------------------------------------------------------- cells
@pytest.mark.parametrize("params, error, match", [
    ({"depht": 2}, ValueError, "Unknown cell parameter"),
    ({"depth": 5}, ValueError, r"depth must lie in \[1, 5\)"),
    ({"task": "ranking"}, ValueError, "task must be one of"),
    ({"hierarchy": "reactome"}, ValueError, "set n_genes=None"),
    ({"hierarchy": "tree", "overlap": 3}, ValueError, "one pathway per gene"),
    ({"n_train": 100}, ValueError, "exactly one of samples_per_edge and n_train"),
    ({"task": "survival", "noise": 1.0}, ValueError, "censored fraction"),
    ({"early_stopping": "yes"}, TypeError, "early_stopping must be a bool"),
    ({"max_epochs": 2.5}, TypeError, "max_epochs must be an int"),
])
def test_make_cell_rejects_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        make_cell(**params)


def test_hierarchy_shapes():
    assert build_mask(make_cell(n_genes=100, depth=4)).layer_sizes == (20, 6, 2, 1)
    tree = build_mask(make_cell(hierarchy="tree", n_genes=100, depth=2))
    assert np.diff(tree.layers[0].indptr).tolist() == [1] * 100  # one pathway per gene
    assert build_mask(make_cell(hierarchy="wide", n_genes=100, depth=4)).layer_sizes == (
        20, 12, 7, 4)
    # cells of different depth share their gene -> pathway layer
    deep, shallow = (build_mask(make_cell(depth=d)) for d in (4, 1))
    assert (deep.layers[0] != shallow.layers[0]).nnz == 0


def test_reactome_branch_is_the_programmed_cell_death_subtree():
    from sklearn_binn.datasets import load_reactome

    branch = reactome_branch()
    assert branch.layer_sizes == (18, 6, 2, 1)
    assert list(branch.node_names[-1]) == ["R-HSA-5357801"]
    # every gene of the branch reaches the root through the full hierarchy, and every gene
    # of the full hierarchy that reaches it is in the branch
    full = load_reactome(n_levels=4, gene_ids="uniprot", copies=True)
    reach = full.layers[0]
    for layer in full.layers[1:]:
        reach = reach @ layer
    root = list(full.node_names[-1]).index("R-HSA-5357801")
    genes = set(full.feature_names[np.asarray(reach[:, root].todense()).ravel() > 0])
    assert set(branch.feature_names) == genes
    mask = build_mask(make_cell(hierarchy="reactome", n_genes=None, depth=2))
    assert mask.layer_sizes == (18, 6)


# ------------------------------------------------------------------- tables
def test_recovery_table_and_above_chance(tiny_rows, tmp_path):
    cell, rows = tiny_rows
    path = tmp_path / "rows.csv"
    frame_of(cell, rows).to_csv(path, index=False)
    table = pd.read_csv(path)  # as the scripts read it back: None keys become NaN
    wide = recovery_table(table)
    assert len(wide) == 2
    by_ref = {(r["reference"], r["layer"]): r for r in rows}
    for _, row in wide.iterrows():
        s = by_ref[("student", row["layer"])]["weight_recovery"]
        c = by_ref[("chance", row["layer"])]["weight_recovery"]
        assert row["weight_above_chance"] == pytest.approx((s - c) / (1 - c))
        assert row["weight_teacher"] == 1.0
    assert len(select_cells(table, [cell])) == len(rows)
    assert select_cells(table, [{**cell, "seed": 7}]).empty


def test_every_cell_parameter_is_a_key_column():
    assert _study.ALL_KEY_COLUMNS == list(_study.CELL_DEFAULTS)
    assert KEY_COLUMNS == [c for c in _study.CELL_DEFAULTS if c not in _study.CONSTRAINT_COLUMNS]


# --------------------------------------------------------------- constraints
def test_default_constraints_leave_seeds_rows_and_keys_as_before(tiny_rows, tmp_path):
    cell, rows = tiny_rows
    # the seeds of the six streams that existed before "supervision" was added
    children = np.random.SeedSequence([0, 20250101]).spawn(6)
    old = [int(c.generate_state(1)[0] >> 1) for c in children]
    seeds = _study._seeds(0)
    assert [seeds[n] for n in ("mask", "teacher", "train", "test", "student", "chance")] == old
    explicit = run_cell({**cell, "edge_l1": 0.0, "sign_constraint": "none",
                         "supervised_fraction": 0.0})
    clocks = ["fit_time_s", "cell_time_s"]
    pd.testing.assert_frame_equal(pd.DataFrame(explicit).drop(columns=clocks),
                                  pd.DataFrame(rows).drop(columns=clocks))
    assert not any("supervised" in k for r in rows for k in r)
    # a CSV written before the constraint columns existed still matches and resumes
    legacy = frame_of(cell, rows).drop(columns=_study.CONSTRAINT_COLUMNS)
    assert len(select_cells(legacy, [cell])) == len(rows)
    csv = tmp_path / "regime_map.csv"
    legacy.to_csv(csv, index=False)
    args = regime_map.build_arg_parser().parse_args(["--out", str(tmp_path)])

    table = regime_map.run_grid([cell], tmp_path, args)  # nothing left to run
    assert len(table) == len(rows)


def test_teacher_sign_table_matches_the_teacher_weights():
    teacher = build_teacher(make_cell(depth=2, **TINY))
    table = _study.teacher_sign_table(teacher)
    inputs = [list(teacher.mask.feature_names), *map(list, teacher.mask.node_names)]
    for k, layer in enumerate(teacher.mask.layers):
        part = table[table["layer"] == k]
        dense = teacher.weights[k].toarray()
        rows = [inputs[k].index(s) for s in part["source"]]
        cols = [inputs[k + 1].index(t) for t in part["target"]]
        assert len(part) == layer.nnz and layer.toarray()[rows, cols].all()
        np.testing.assert_array_equal(part["sign"], np.where(dense[rows, cols] < 0, -1, 1))


def test_sign_constraint_and_edge_l1_reach_the_student():
    cell = make_cell(depth=2, sign_constraint="teacher", edge_l1=1e-3, **TINY)
    teacher = build_teacher(cell)
    X, y = teacher.sample(200, random_state=0)
    params = _study._student_params(cell, 20, 0, teacher)
    assert params["edge_l1"] == 1e-3
    student, untrained = _study._fit_student(cell, teacher, X, y, params)[:2]
    for fitted in (student, untrained):
        weights = fitted.get_weights()
        assert len(weights) == teacher.mask.depth
        for layer, w, true in zip(teacher.mask.layers, weights, teacher.weights):
            edges = layer.toarray() != 0
            w, true = w.toarray()[edges], true.toarray()[edges]
            assert (np.where(true < 0, -1, 1) * w >= 0).all()
            assert np.abs(w).max() > 0


def test_pathway_targets_are_the_teachers_activations_on_half_the_samples():
    cell = make_cell(n_genes=40, supervised_fraction=0.25)
    mask = build_mask(cell)
    teacher = build_teacher(cell, mask)
    nodes = _study.supervised_nodes(cell, mask)
    assert len(nodes) == round(0.25 * mask.layer_sizes[0])
    X, _ = teacher.sample(100, random_state=0)
    targets = _study._pathway_targets(cell, teacher, X, nodes)
    given = targets.notna().all(axis=1).to_numpy()
    assert given.sum() == 50 and (targets[~given].isna().all(axis=1)).all()
    columns = [list(mask.node_names[0]).index(n) for n in nodes]
    np.testing.assert_allclose(targets[given].to_numpy(),
                               teacher.activations(X)[0][given][:, columns], rtol=1e-12)


@pytest.mark.slow
def test_supervision_recovers_the_supervised_nodes_and_splits_the_report():
    base = {"n_genes": 20, "depth": 1, "samples_per_edge": 3.0, "max_epochs": 200, "lr": 1e-2,
            "n_test": 300, "n_chance_draws": 2}
    free = run_cell(make_cell(**base))
    rows = run_cell(make_cell(**base, supervised_fraction=0.5))
    nodes = _study.supervised_nodes(make_cell(**base, supervised_fraction=0.5))
    student = [r for r in rows if r["reference"] == "student"][0]
    assert student["n_supervised"] == len(nodes)
    # the two parts average back to the layer mean
    n = student["n_nodes"]
    for target in ("weight", "activation"):
        parts = (len(nodes) * student[f"{target}_recovery_supervised"]
                 + (n - len(nodes)) * student[f"{target}_recovery_unsupervised"]) / n
        assert parts == pytest.approx(student[f"{target}_recovery"], abs=1e-12)
    # the same nodes' activation recovery without supervision (a direct recomputation)
    cell = make_cell(**base)
    teacher = build_teacher(cell)
    X_test, _ = teacher.sample(300, random_state=_study._seeds(0)["test"])
    X, y = teacher.sample(_study._n_train(cell, teacher.mask),
                          random_state=_study._seeds(0)["train"])
    params = _study._student_params(cell, 200, _study._seeds(0)["student"])
    fitted = _study._fit_student(cell, teacher, X, y, params)[0]
    from sklearn_binn import recovery_report

    report = recovery_report(fitted, teacher, X_test).nodes
    without = report[report["node"].isin(nodes)]["activation_recovery"].mean()
    assert [r for r in free if r["reference"] == "student"][0]["activation_recovery"] == (
        pytest.approx(report["activation_recovery"].mean()))
    # with early stopping on the held-out objective (supervision included) the supervised
    # nodes reach ~0.96 here, against ~0.77 for the same nodes without supervision
    assert student["activation_recovery_supervised"] > max(without + 0.15, 0.95)

    # the rows keep every node's score, in the mask's node order
    names = [str(n) for n in teacher.mask.node_names[0]]
    by_node = report[report["layer"] == 0].set_index("node")["activation_recovery"]
    free_student = [r for r in free if r["reference"] == "student"][0]
    np.testing.assert_allclose(_study.node_scores(free_student, "activation"),
                               by_node.reindex(names).to_numpy(), rtol=1e-5)

    # the constraint table's same-node baseline: the free student on the supervised arm's
    # unsupervised nodes, against the chance of those nodes
    sup_cell = make_cell(**base, supervised_fraction=0.5)
    membership = pd.DataFrame([{"sweep": "constraints", "x": "none", **cell},
                               {"sweep": "constraints", "x": "50% supervised", **sup_cell}])
    table = regime_map.constraint_table(
        pd.DataFrame([{**cell, **r} for r in free] + [{**sup_cell, **r} for r in rows]),
        membership).set_index(["arm", "layer"])
    unsupervised = [n for n in names if n not in nodes]
    chance_row = [r for r in free if r["reference"] == "chance" and r["layer"] == 0][0]
    chance = pd.Series(_study.node_scores(chance_row, "activation"), index=names)
    s, c = by_node[unsupervised].mean(), chance[unsupervised].mean()
    got = table.loc[("50% supervised", 0)]
    assert got["activation_above_unsup_none"] == pytest.approx((s - c) / (1 - c), rel=1e-4)
    assert got["activation_unsup_gain"] == pytest.approx(
        got["activation_above_unsup"] - got["activation_above_unsup_none"])
    assert np.isnan(table.loc[("none", 0), "activation_unsup_gain"])


def test_constraints_sweep_labels_and_routing():
    args = regime_map.build_arg_parser().parse_args(
        ["--sweeps", "constraints", "--tasks", "regression", "--seeds", "1"])
    cells, membership = regime_map.make_grid(args)
    assert membership["x"].tolist() == [
        "none", "L1 0.0001", "L1 0.001", "L1 0.01", "teacher signs", "25% supervised",
        "50% supervised", "teacher signs + 50% supervised"]
    assert [regime_map.constrained(c) for c in cells] == [False] + [True] * 7


# ------------------------------------------------------------ regime map grid
def test_regime_map_grid_runs_each_cell_once_and_maps_every_sweep_point():
    args = regime_map.build_arg_parser().parse_args(["--seeds", "1", "--tasks", "survival"])
    cells, membership = regime_map.make_grid(args)
    keys = _study.key_text(pd.DataFrame(cells))
    assert keys.is_unique
    assert set(_study.key_text(membership)) == set(keys)
    # one-factor sweeps move one axis off the base point
    depth = membership[membership["sweep"] == "depth"]
    assert depth["x"].tolist() == ["1", "2", "3", "4"]
    assert (depth["samples_per_edge"] == 10.0).all() and (depth["activation"] == "tanh").all()
    spe_depth = membership[membership["sweep"] == "spe_x_depth"]
    assert len(spe_depth) == 20
    assert len(membership) == sum(len(regime_map.sweep_points(s))
                                  for s in regime_map.DEFAULT_SWEEPS)
    assert "constraints" not in set(membership["sweep"])  # only when named


def test_layer_thresholds_find_where_recovery_stays_above_the_line():
    rows = []
    for spe, (w0, w1) in zip(("0.3", "1", "3", "10", "30"),
                             [(0.1, 0.0), (0.6, 0.1), (0.4, 0.2), (0.7, 0.6), (0.9, 0.8)]):
        for layer, w in ((0, w0), (1, w1)):
            rows.append({"task": "regression", "sweep": "samples_per_edge", "x": spe, "y": "",
                         "layer": layer, "weight_above_chance": w,
                         "activation_above_chance": 0.0})
    out = regime_map.layer_thresholds(pd.DataFrame(rows)).set_index("layer")
    # layer 0 dips below 0.5 at 3 samples per edge, so it needs 10; layer 1 also needs 10
    assert out.loc[0, "weight_spe_needed"] == 10.0
    assert out.loc[1, "weight_spe_needed"] == 10.0
    assert np.isinf(out.loc[0, "activation_spe_needed"])


# ----------------------------------------------------------------- the CLIs
def test_teacher_student_main_in_process_resumes(tmp_path, capsys):
    argv = ["--tiny", "--tasks", "regression", "--depths", "2", "--noises", "0",
            "--out", str(tmp_path)]
    assert teacher_student.main(argv) == 0
    csv = tmp_path / "teacher_student.csv"
    before = csv.read_bytes()
    printed = capsys.readouterr().out
    assert printed.rstrip().splitlines()[-1].startswith("regression")  # summary printed last
    assert teacher_student.main(argv) == 0
    assert csv.read_bytes() == before  # nothing re-ran
    assert "1 cells, 1 already in teacher_student.csv, running 0" in (
        tmp_path / "log.txt").read_text()
    table = pd.read_csv(csv)
    assert len(table) == 6  # 3 references x 2 layers
    for name in ("teacher_student_fit.png", "teacher_student_layers.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_teacher_student_cli_tiny_end_to_end(tmp_path):
    """The --quick grid on toy sizes, as a user runs it, twice."""
    command = [sys.executable, str(BENCHMARKS / "teacher_student.py"), "--tiny",
               "--out", str(tmp_path / "out")]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    out = tmp_path / "out"
    table = pd.read_csv(out / "teacher_student.csv")
    # 3 tasks x depths {1, 2} x noise {0, 0.5}: 12 cells, rows for 3 references per layer
    assert len(table.drop_duplicates(KEY_COLUMNS)) == 12
    assert len(table) == 3 * (6 * 1 + 6 * 2)
    assert (out / "teacher_student_fit.png").stat().st_size > 10_000
    assert first.stdout.rstrip().splitlines()[-1].split()[0] == "survival"
    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    again = pd.read_csv(out / "teacher_student.csv")
    assert not again.duplicated([*KEY_COLUMNS, "reference", "layer"]).any()
    pd.testing.assert_frame_equal(again, table)
    assert "12 already in teacher_student.csv, running 0" in (out / "log.txt").read_text()


@pytest.mark.slow
def test_regime_map_main_on_a_toy_grid(tmp_path):
    argv = ["--tasks", "regression", "--sweeps", "init", "depth", "--seeds", "1",
            "--n-genes", "12", "--max-epochs", "5", "--out", str(tmp_path)]
    assert regime_map.main(argv) == 0
    table = pd.read_csv(tmp_path / "regime_map_table.csv")
    assert set(table["sweep"]) == {"init", "depth"}
    assert (tmp_path / "regime_map_regression.png").exists()
    teacher_init = table[(table["sweep"] == "init") & (table["x"] == "teacher")]
    assert (teacher_init["weight_above_chance"] > 0.9).all()


@pytest.mark.parametrize("script", [teacher_student, regime_map])
def test_an_empty_seed_range_is_a_usage_error(script, capsys):
    with pytest.raises(SystemExit) as info:
        script.main(["--seeds", "0"])
    assert info.value.code == 2
    assert "--seeds must be at least 1" in capsys.readouterr().err


# ------------------------------------------------------- the diagnostic across the map
@pytest.mark.parametrize("activation, identifiable", [("tanh", True), ("identity", False)])
def test_diagnosed_cell_reports_the_diagnostic_of_teacher_and_student(activation, identifiable):
    from sklearn_binn import identifiability_diagnostic

    cell = make_cell(task="regression", depth=2, activation=activation, **TINY)
    rows = run_cell(cell, diagnose=True)
    by = {(r["reference"], r["layer"]): r for r in rows}
    assert "identifiable_fraction" not in by[("chance", 0)]
    # the teacher-point verdicts are the diagnostic's own, on the training data
    teacher = build_teacher(cell)
    X, _ = teacher.sample(by[("teacher", 0)]["n_train_used"],
                          random_state=_study._seeds(0)["train"])
    direct = identifiability_diagnostic(teacher.to_estimator(), X,
                                        random_state=_study._seeds(0)["chance"])
    for layer, names in enumerate(teacher.mask.node_names):
        row = by[("teacher", layer)]
        expected = direct.nodes[direct.nodes["layer"] == layer].set_index("node")[
            "identifiable"].reindex([str(n) for n in names]).astype(float).to_numpy()
        np.testing.assert_array_equal(
            np.array(row["identifiable_nodes"].split(";"), float), expected)
        assert row["identifiable_fraction"] == pytest.approx(expected.mean())
        assert row["jacobian_deficiency"] == direct.deficiency
    # tanh: every node identifiable, no excess null direction; identity: linear nodes are not
    assert (by[("teacher", 0)]["identifiable_fraction"] == 1.0) is identifiable
    assert (by[("teacher", 0)]["jacobian_deficiency"] == 0) is identifiable
    assert 0 < by[("student", 0)]["eigenvalue_ratio"] <= 1 or not identifiable


@pytest.mark.slow
def test_diagnostic_map_main_on_a_toy_grid(tmp_path):
    import diagnostic_map

    argv = ["--tasks", "regression", "--sweeps", "activation", "--n-genes", "12",
            "--max-epochs", "3", "--out", str(tmp_path)]
    assert diagnostic_map.main(argv) == 0
    table = pd.read_csv(tmp_path / "diagnostic_map_table.csv").set_index(["x", "layer"])
    assert table.loc[("identity", 0), "identifiable_teacher"] < 1.0
    assert table.loc[("tanh", 0), "identifiable_teacher"] == 1.0
    nodes = pd.read_csv(tmp_path / "diagnostic_map_nodes.csv")
    assert set(nodes["identifiable_at_teacher"]) == {True, False}
    assert (tmp_path / "diagnostic_map.png").exists()


def test_teacher_student_main_with_both_protocols(tmp_path, capsys):
    argv = ["--tiny", "--tasks", "regression", "--depths", "1", "--noises", "0",
            "--protocol", "practice", "converged", "--out", str(tmp_path)]
    assert teacher_student.main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Teacher-student study")
    assert f"Files in {tmp_path}/" in printed
    verdicts = pd.read_csv(tmp_path / "verdicts.csv")
    assert sorted(verdicts["protocol"]) == ["converged", "practice"]
    # a 5-epoch budget converges under neither protocol: no verdict but a shortfall
    assert verdicts["optim. shortfall"].tolist() == [1, 1]
    assert verdicts["n_conv"].tolist() == [0, 0]
    for protocol in ("practice", "converged"):
        assert (tmp_path / f"teacher_student_fit_{protocol}.png").stat().st_size > 0
        assert (tmp_path / f"teacher_student_layers_{protocol}.png").stat().st_size > 0
    cells = pd.read_csv(tmp_path / "cells_brief.csv")
    assert set(cells["protocol"]) == {"practice", "converged"}
    assert {"converged", "grad_norm", "train_gap", "verdict"} <= set(cells.columns)
    times = pd.read_csv(tmp_path / "run_time.csv")
    assert times["n_cells"].tolist() == [1, 1]


def test_converged_regime_map_leaves_out_the_practice_training_knobs():
    parse = regime_map.build_arg_parser().parse_args
    practice, _ = regime_map.make_grid(parse(["--seeds", "1", "--tasks", "regression"]))
    converged, membership = regime_map.make_grid(
        parse(["--seeds", "1", "--tasks", "regression", "--protocol", "converged"]))
    assert {c["protocol"] for c in converged} == {"converged"}
    assert not set(membership["sweep"]) & set(regime_map.PRACTICE_ONLY)
    # the knobs' own points are the only cells dropped: lr 3e-3, 1e-2; weight decay x3;
    # dropout 0.1, 0.3; early stopping off (their base-point values are the base cell)
    assert len(practice) - len(converged) == 8
    with pytest.raises(ValueError, match="run them with --protocol practice"):
        regime_map.make_grid(parse(["--sweeps", "dropout", "--protocol", "converged"]))
