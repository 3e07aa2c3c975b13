"""ReactomeMask: a picklable, pipeline-proof way to build the mask from the data's genes."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_binn import BINNClassifier, PathwayMask, ReactomeMask, load_reactome

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
FAST = {"batch_size": -1, "train_split": None, "max_epochs": 2}
REACTOME = load_reactome(n_levels=2)
GENES = REACTOME.feature_names[::100][:80].tolist() + ["NOT_A_GENE"]


def _data(columns=GENES, n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(columns))), columns=columns)
    return X, rng.integers(0, 2, n)


def test_the_factory_restricts_the_bundled_reactome():
    assert ReactomeMask(n_levels=2)(GENES) == REACTOME.restrict(GENES)
    assert ReactomeMask(n_levels=2)(np.array(GENES, dtype=np.str_)) == REACTOME.restrict(GENES)


def test_it_pickles_clones_and_prints():
    factory = ReactomeMask(n_levels=2, data_types=["mut", "cna"])
    assert repr(factory) == "ReactomeMask(data_types=['mut', 'cna'], n_levels=2)"
    assert pickle.loads(pickle.dumps(factory)).get_params() == factory.get_params()
    assert clone(factory).get_params() == factory.get_params()
    X, y = _data()
    est = BINNClassifier(ReactomeMask(n_levels=2), random_state=0, **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(
        clone(est).fit(X, y).predict_proba(X), est.predict_proba(X)
    )


def test_it_works_after_a_scaler_when_the_pipeline_keeps_names():
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), BINNClassifier(ReactomeMask(n_levels=2),
                                                          random_state=0, **FAST))
    pipe.set_output(transform="pandas").fit(X, y)
    assert pipe[-1].mask_ == REACTOME.restrict(GENES)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict_proba(X), pipe.predict_proba(X))


def test_a_nameless_array_is_a_clear_error():
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), BINNClassifier(ReactomeMask(n_levels=2), **FAST))
    with pytest.raises(TypeError, match=r"set_output\(transform='pandas'\)"):
        pipe.fit(X, y)


def test_restrict_names_the_fix_when_given_a_count():
    with pytest.raises(TypeError, match="without column names.*set_output"):
        REACTOME.restrict(81)
    # an iterator is read once, not consumed before use
    assert REACTOME.restrict(iter(GENES)) == REACTOME.restrict(GENES)


def test_numpy_string_labels_are_accepted():
    labels = pd.Index([np.str_(g) for g in GENES], dtype=object)
    X, y = _data()
    Xs = X.set_axis(labels, axis=1)
    assert all(type(c) is np.str_ for c in Xs.columns)
    mask = PathwayMask(REACTOME).restrict(labels)
    assert mask == REACTOME.restrict(GENES)
    plain = BINNClassifier(ReactomeMask(n_levels=2), random_state=0, **FAST).fit(X, y)
    est = BINNClassifier(ReactomeMask(n_levels=2), random_state=0, **FAST).fit(Xs, y)
    assert est.mask_ == plain.mask_
    assert est.feature_names_in_.tolist() == GENES
    assert all(type(c) is str for c in est.feature_names_in_)
    np.testing.assert_array_equal(est.predict_proba(Xs), plain.predict_proba(X))


def test_names_lost_upstream_are_explained():
    # scikit-learn's transformers ignore numpy.str_ labels and invent x0, x1, ...
    with pytest.raises(ValueError, match=r"invents.*str\(c\) for c in X.columns"):
        ReactomeMask()([f"x{i}" for i in range(5)])
    with pytest.raises(ValueError, match="HGNC symbols"):
        ReactomeMask()(["foo", "bar"])


def test_grid_search_over_factories():
    X, y = _data()
    search = GridSearchCV(
        BINNClassifier(ReactomeMask(n_levels=1), random_state=0, **FAST),
        {"mask": [ReactomeMask(n_levels=1), ReactomeMask(n_levels=2)]}, cv=2,
    ).fit(X, y)
    assert search.best_estimator_.mask_.depth == search.best_params_["mask"].n_levels


def test_data_types_through_the_factory():
    genes = GENES[:10]
    columns = [f"{g}_{t}" for g in genes for t in ("mut", "expr")]
    factory = ReactomeMask(n_levels=2, data_types=["mut", "expr"])
    mask = factory(columns)
    expected = REACTOME.restrict(genes).with_data_types(["mut", "expr"]).restrict(columns)
    assert mask == expected and mask.data_types == ("mut", "expr")
    with pytest.raises(ValueError, match="'age' is not"):
        factory([*columns, "age"])
    # a (gene, data type) MultiIndex is joined with the factory's separator
    X, y = _data(columns)
    multi = X.set_axis(pd.MultiIndex.from_tuples([c.split("_") for c in columns]), axis=1)
    est = BINNClassifier(factory, random_state=0, **FAST).fit(multi, y)
    assert est.feature_names_in_.tolist() == columns


def test_masks_from_the_bundled_reactome_know_pathway_names():
    mask, names = load_reactome(n_levels=2, return_names=True)
    labels = mask.display_names
    assert set(labels) == {n for layer in mask.node_names for n in layer}
    real = [node for node in labels if "_copy" not in node]
    assert real and all(labels[node] == names[node] for node in real)
    factory_mask = ReactomeMask(n_levels=2)(GENES)
    assert all(
        factory_mask.display_names[n] == names[n] for layer in factory_mask.node_names
        for n in layer if "_copy" not in n
    )
    table = factory_mask.annotate(pd.Series({"R-HSA-73894": 0.5}, name="importance"))
    assert table.loc["R-HSA-73894"].tolist() == ["DNA Repair", 0.5]


def test_copy_nodes_are_marked_not_shown_as_pathways():
    mask = PathwayMask.from_gene_sets(
        {"R-1": ["A", "B"], "R-2": ["C"], "R-3": []},
        hierarchy=[("R-1", "R-3"), ("R-3", "R-4"), ("R-2", "R-4")], copies=True,
    ).with_display_names({"R-1": "DNA repair", "R-2": "Cell cycle", "R-3": "Repair",
                          "R-4": "Root"})
    copies = [n for layer in mask.node_names for n in layer if "_copy" in n]
    assert copies  # R-2 skips a level
    for node in copies:
        base = node.rpartition("_copy")[0]
        assert mask.display_names[node] == f"{mask.display_names[base]} [copy]"
    # names survive restrict and truncate
    assert mask.restrict(["A", "C"]).display_names["R-1"] == "DNA repair"
    assert mask.truncate(1).display_names["R-1"] == "DNA repair"
