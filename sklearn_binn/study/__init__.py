"""The teacher–student study as a library: cells, protocols, verdicts, scoring and a runner.

A *cell* (:func:`make_cell`) names one measurement: a task, a pathway
hierarchy, its depth, the noise, the sample size, a seed and how the
student is trained -- its *protocol*, ``"practice"`` (the estimators'
defaults) or ``"converged"`` (full-batch L-BFGS to tolerance with restarts,
:func:`protocol_params`). :func:`run_cell` builds the cell's teacher and
data, trains a student, scores it against the teacher and against chance
(:func:`recovery_table` puts the three side by side), records whether the
student converged (:func:`convergence_evidence`) and gives the cell one
verdict (:func:`cell_verdict`): "recovered", "non-identifiable",
"optimisation shortfall" or "no fit"; in cells whose converged student
reaches the teacher's training loss it refits restarts and scores them
against each other (:func:`restart_agreement`). :func:`run_cells` runs many
cells in parallel through joblib, resumably, into a CSV.
:func:`ranking_vs_weights` counts, over cells scored with ``run_cell(rank=...)``,
where the importance ranking is recovered without the weights, and the reverse.

The scripts ``benchmarks/teacher_student.py``, ``regime_map.py`` and
``diagnostic_map.py`` are thin command lines over this module.

Examples
--------
>>> from sklearn_binn.study import make_cell, run_cell
>>> rows = run_cell(make_cell(n_genes=12, depth=1, samples_per_edge=5.0,
...                           max_epochs=5, n_test=200, n_chance_draws=2))
>>> student = [r for r in rows if r["reference"] == "student"][0]
>>> student["protocol"], student["converged"], student["verdict"]
('practice', False, 'optimisation shortfall')
"""

from ._cells import (
    ALL_KEY_COLUMNS,
    CELL_DEFAULTS,
    CONSTRAINT_COLUMNS,
    HIERARCHIES,
    KEY_COLUMNS,
    N_RESTARTS,
    REFERENCES,
    TASKS,
    build_mask,
    build_teacher,
    cell_means,
    judge_student,
    key_text,
    make_cell,
    node_scores,
    reactome_branch,
    reactome_subset,
    recovery_table,
    run_cell,
    select_cells,
    supervised_nodes,
    task_metric,
    teacher_sign_table,
)
from ._protocols import (
    CONVERGED_MAX_EPOCHS,
    CONVERGED_N_INIT,
    CONVERGED_FLOAT64_MAX_EPOCHS,
    CONVERGED_FLOAT64_TOL,
    CONVERGED_TOL,
    PAIRED_PROTOCOLS,
    PROTOCOLS,
    convergence_evidence,
    gradient_norm,
    protocol_params,
    training_objective,
)
from ._readings import (
    RANKING_THRESHOLD,
    READING_OUTCOMES,
    ranking_vs_weights,
)
from ._runner import (
    BACKENDS,
    CellError,
    headless_pyplot,
    open_log,
    parallel_backend,
    print_summary,
    run_cells,
)
from ._verdicts import (
    RECOVERY_THRESHOLD,
    TEACHER_LEVEL,
    VERDICTS,
    cell_verdict,
    restart_agreement,
    student_as_teacher,
    training_gap,
    verdict_counts,
)

__all__ = [
    "ALL_KEY_COLUMNS",
    "BACKENDS",
    "CELL_DEFAULTS",
    "CONSTRAINT_COLUMNS",
    "CONVERGED_MAX_EPOCHS",
    "CONVERGED_N_INIT",
    "CONVERGED_FLOAT64_MAX_EPOCHS",
    "CONVERGED_FLOAT64_TOL",
    "CONVERGED_TOL",
    "CellError",
    "HIERARCHIES",
    "KEY_COLUMNS",
    "N_RESTARTS",
    "PAIRED_PROTOCOLS",
    "PROTOCOLS",
    "RANKING_THRESHOLD",
    "READING_OUTCOMES",
    "RECOVERY_THRESHOLD",
    "REFERENCES",
    "TASKS",
    "TEACHER_LEVEL",
    "VERDICTS",
    "build_mask",
    "build_teacher",
    "cell_means",
    "cell_verdict",
    "convergence_evidence",
    "gradient_norm",
    "headless_pyplot",
    "judge_student",
    "key_text",
    "make_cell",
    "node_scores",
    "open_log",
    "parallel_backend",
    "print_summary",
    "protocol_params",
    "ranking_vs_weights",
    "reactome_branch",
    "reactome_subset",
    "recovery_table",
    "restart_agreement",
    "run_cell",
    "run_cells",
    "select_cells",
    "student_as_teacher",
    "supervised_nodes",
    "task_metric",
    "teacher_sign_table",
    "training_objective",
    "training_gap",
    "verdict_counts",
]
