"""
=============================================================
Can I trust my own BINN? An identifiability check in one call
=============================================================

Before a pathway's learned weights, activation or importance are read as
mechanism, one question has to be answered: *could* a BINN with this
wiring, trained on this many samples, recover them at all? On real data
there is no ground truth, but on simulated data there is.
:func:`~sklearn_binn.identifiability_check` draws teacher BINNs with
known random weights on exactly your wiring, trains students on
``n_samples`` of their data (with your training settings and with the
converged protocol: full-batch L-BFGS with restarts), and reports per
pathway node how often its weights, its activation and its importance rank
are recovered, beside untrained students (chance).

The wiring here is a small Reactome sub-hierarchy: the *Programmed Cell
Death* branch of the bundled Reactome (three levels, 198 genes), as a
user would cut Reactome down to their genes.
"""

# %%
# The wiring
# ----------
import matplotlib.pyplot as plt
import torch

from sklearn_binn import (
    BINNRegressor,
    TeacherDataset,
    identifiability_check,
    importance_recovery,
    load_reactome,
    misspecification_report,
    perturb_mask,
)
from sklearn_binn.study import reactome_branch

# networks this small train fastest on one thread
torch.set_num_threads(1)

mask = reactome_branch(("R-HSA-5357801",), n_levels=3)  # Programmed Cell Death
_, names = load_reactome(n_levels=3, gene_ids="uniprot", return_names=True)
print(mask)
for k, layer in enumerate(mask.node_names):
    print(k, [names.get(node, node) for node in layer])

# %%
# The check
# ---------
# Your setting: a regression BINN trained with Adam at ``lr=0.01`` (early
# stopping on a validation split, the estimator's default) on 1,000
# samples, about four per edge. Three teachers keep the example short; use
# more (``n_teachers=20``) for real decisions, and a ``cache`` folder to make
# a long check resumable. Gradient × input is the cheapest importance.
check = identifiability_check(
    mask, 1000, task="regression", estimator_params={"lr": 0.01},
    n_teachers=3, n_test=300, method="gradient_x_input", names=names,
    n_jobs=2, progress=False, random_state=0,
)
print(check.summary())

# %%
# Per node: how often each reading is recovered under each protocol, and by
# untrained students. A share is over the teachers: with three, 0.33 steps.
columns = ["protocol", "layer", "name", "n_inputs", "weight_recovered",
           "weight_recovered_chance", "activation_recovered", "rank_recovered",
           "rank_recovered_chance"]
print(check.nodes[columns].round(2).to_string(index=False))

# %%
# Per teacher and protocol: whether the student converged, how far its
# training loss is from the teacher's own (``train_gap``: 0 at the teacher,
# 1 at the untrained start) and the verdict. A student that stopped above
# the teacher's loss while a student started at the teacher ends lower is
# an *optimisation shortfall*, not evidence of non-identifiability.
print(check.replicates[["replicate", "protocol", "converged", "train_gap",
                        "test_r2_vs_teacher", "weight_recovery", "verdict"]]
      .round(4).to_string(index=False))

# %%
fig = check.plot()

# %%
# Wrong wiring
# ------------
# Reactome is incomplete and partly wrong. With one teacher on the true
# wiring, a student is trained on a mask missing 10 % of the gene →
# pathway edges and carrying 10 % false ones
# (:func:`~sklearn_binn.perturb_mask`), then scored on the edges both
# share, on how much weight it puts on false edges, and on whether a false
# edge can be told from a true one by its weight or its attribution (ROC
# AUC; 0.5 is a coin flip).
teacher = TeacherDataset(mask, random_state=0)
X, y = teacher.sample(1000, random_state=1)
X_test, _ = teacher.sample(300, random_state=2)
wrong = perturb_mask(mask, missing=0.1, false=0.1, random_state=0)
student = BINNRegressor(wrong.mask, solver="lbfgs", random_state=0).fit(X, y)
report = misspecification_report(student, teacher, X_test)
print(report.layers.round(3).to_string())

# %%
# And what users read: the student's pathway-importance ranking against the
# teacher's, per layer, beside untrained students.
ranking = importance_recovery(student, teacher, X_test, method="gradient_x_input",
                              chance=True, n_chance_draws=5, random_state=0)
print(ranking.layers[["n_nodes", "spearman", "spearman_chance", "top_k_overlap",
                      "rank_recovered", "rank_recovered_chance"]].round(3).to_string())

# %%
# False edges by weight: the student's absolute weights on true and false
# gene → pathway edges.
edges = report.edges.query("layer == 0")
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist([edges.loc[edges["status"] == s, "abs_weight"] for s in ("true", "false")],
        bins=30, label=["true edges", "false edges"], stacked=False)
ax.set_xlabel("|weight| (aligned)")
ax.set_ylabel("edges")
ax.legend()
fig.tight_layout()

# %%
# What to conclude
# ----------------
# Read the summary above per node, not as a whole: a pathway whose weights
# and activation are recovered in nearly every simulated replicate under the
# converged protocol, far above chance, is readable at this sample size;
# one recovered only at chance level is not, whatever a fitted BINN says
# about it. Where the converged protocol recovers a node and your own
# settings do not, the gap is optimisation, not identifiability: train to
# convergence. The simulated teachers are random BINNs on your wiring, not
# your biology, so the check is a necessary condition for reading a
# pathway, not a sufficient one.
