"""One verdict per study cell, and whether exact fits are unique.

A cell's student has either learned the teacher's internals, or it has
not; and if not, either the data could not pin them down
(non-identifiability) or training stopped short (an optimisation
shortfall). :func:`cell_verdict` tells these apart from evidence, never by
blending them:

``"optimisation shortfall"``
    The student did not converge (its fit ended on its budget with the
    training loss still falling): it is evidence of nothing about
    identifiability. Or it converged to a training loss clearly above the
    teacher's -- its *training gap* (:func:`training_gap`) is above
    :data:`TEACHER_LEVEL` -- and a student started *at the teacher* and
    trained the same way ends clearly lower (by more than
    :data:`TEACHER_LEVEL`): the teacher is a better minimum the student did
    not find.
``"no fit"``
    The student converged above the teacher's level and the student started
    at the teacher does not end clearly lower: the training objective (with
    its penalties or constraints) has no teacher-level minimum to find.
``"recovered"``
    Converged to teacher-level training loss (training gap at most
    :data:`TEACHER_LEVEL`), and every such student of the cell (the main
    one and its restarts) has, on every pathway layer, a mean weight and a
    mean activation recovery of at least :data:`RECOVERY_THRESHOLD`.
``"non-identifiable"``
    Converged to teacher-level training loss with internals that differ:
    some teacher-level student of the cell scores below
    :data:`RECOVERY_THRESHOLD` on some layer. It fits the training data as
    well as the teacher does, so the data do not single the teacher out.

Whether the exact fits of a cell are unique is measured by
:func:`restart_agreement`: students refitted from other starts are scored
against each other (one student taking the teacher's place, with the same
alignment) as well as against the teacher. Distinct exact fits are real
non-identifiability; restarts that all land on the teacher are not.
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pandas as pd

from .._identifiability import recovery_report
from .._teacher import TeacherDataset

__all__ = [
    "RECOVERY_THRESHOLD",
    "TEACHER_LEVEL",
    "VERDICTS",
    "cell_verdict",
    "restart_agreement",
    "student_as_teacher",
    "training_gap",
    "verdict_counts",
]

#: The four verdicts, in the order tables list them.
VERDICTS = ("recovered", "non-identifiable", "optimisation shortfall", "no fit")
#: A training gap at most this is "teacher-level": the student's training loss
#: is within 1e-5 of the way from its untrained start to the teacher's own loss
#: (for a noiseless regression teacher, R² of about 0.99999 on the training
#: samples). Looser levels call students on the knee of the fit-versus-recovery
#: curve exact fits: recovery still rises steeply between R² 0.99 and 0.9999.
TEACHER_LEVEL = 1e-5
#: Internals are recovered when every pathway layer's mean weight and mean
#: activation recovery reach this.
RECOVERY_THRESHOLD = 0.9


def training_gap(student_loss, teacher_loss, start_loss):
    """How far a student's training loss is from the teacher's, as a fraction of where it began.

    ``(student_loss - teacher_loss) / (start_loss - teacher_loss)``, all on
    the same training samples: 1 at the untrained start, 0 at the teacher,
    negative below it (a student may fit noise, or be more confident than a
    noiseless classification teacher). Scale-free, so one threshold
    (:data:`TEACHER_LEVEL`) serves every task.

    Parameters
    ----------
    student_loss, teacher_loss, start_loss : float
        Training losses of the trained student, the teacher and the
        untrained student.

    Returns
    -------
    float
        NaN when the start is not above the teacher's loss.

    Examples
    --------
    >>> training_gap(0.01, 0.0, 1.0)
    0.01
    >>> training_gap(0.5, 0.5, 2.0)
    0.0
    """
    span = float(start_loss) - float(teacher_loss)
    if not span > 0:
        return float("nan")
    return (float(student_loss) - float(teacher_loss)) / span


def cell_verdict(converged, train_gap, internals, teacher_start_gap=None, *,
                 teacher_level=TEACHER_LEVEL, threshold=RECOVERY_THRESHOLD):
    """The verdict of one cell (see the module docstring for what each means).

    Parameters
    ----------
    converged : bool
        Whether the cell's student converged.
    train_gap : float
        Its :func:`training_gap`.
    internals : float
        The lowest layer-mean recovery (weight or activation) over the
        cell's teacher-level students (the main one and its restarts);
        used only when the student is at the teacher's level.
    teacher_start_gap : float, default=None
        The training gap of a student started at the teacher and trained
        the same way; needed when a converged student is above the
        teacher's level.
    teacher_level : float, default=TEACHER_LEVEL
    threshold : float, default=RECOVERY_THRESHOLD

    Returns
    -------
    str
        One of :data:`VERDICTS`.

    Raises
    ------
    ValueError
        If a converged student is above the teacher's level and
        ``teacher_start_gap`` is missing.

    Examples
    --------
    >>> cell_verdict(False, 0.2, 0.3)
    'optimisation shortfall'
    >>> cell_verdict(True, 1e-6, 0.99)
    'recovered'
    >>> cell_verdict(True, 1e-6, 0.4)
    'non-identifiable'
    >>> cell_verdict(True, 0.05, 0.4, teacher_start_gap=0.0)
    'optimisation shortfall'
    >>> cell_verdict(True, 0.05, 0.4, teacher_start_gap=0.05)
    'no fit'
    """
    if not converged:
        return "optimisation shortfall"
    if not train_gap > teacher_level:  # NaN (no start above the teacher) counts as level
        return "recovered" if internals >= threshold else "non-identifiable"
    if teacher_start_gap is None or np.isnan(teacher_start_gap):
        raise ValueError(
            "A converged student above the teacher's training loss needs the training gap of "
            "a student started at the teacher (teacher_start_gap) to tell an optimisation "
            f"shortfall from no fit; got train_gap={train_gap!r} and no teacher_start_gap."
        )
    if teacher_start_gap < train_gap - teacher_level:
        return "optimisation shortfall"
    return "no fit"


def student_as_teacher(student, teacher):
    """A copy of ``teacher`` carrying a fitted student's weights, to score students against it.

    Parameters
    ----------
    student : fitted BINN estimator
        Without batch norm, with the teacher's architecture.
    teacher : TeacherDataset
        The cell's teacher (its mask, task and activation are kept).

    Returns
    -------
    TeacherDataset

    Examples
    --------
    >>> from sklearn_binn import TeacherDataset, recovery_report
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> teacher = TeacherDataset(make_pathway_mask(12, depth=1, random_state=0),
    ...                          random_state=0)
    >>> X, y = teacher.sample(100, random_state=0)
    >>> other = TeacherDataset(teacher.mask, random_state=1).to_estimator()
    >>> as_teacher = student_as_teacher(other, teacher)
    >>> float(recovery_report(other, as_teacher, X).layers.loc[0, "weight_recovery"])
    1.0
    """
    if not isinstance(teacher, TeacherDataset):
        raise TypeError(f"teacher must be a TeacherDataset; got {type(teacher).__name__}.")
    if getattr(student, "batch_norm", False):
        raise ValueError("student_as_teacher needs a student without batch norm.")
    clone = copy.deepcopy(teacher)
    clone.module.load_state_dict(
        {k: v.detach().to("cpu", clone.module.state_dict()[k].dtype)
         for k, v in student.module_.state_dict().items()})
    return clone


def restart_agreement(students, teacher, X):
    """Score students refitted from different starts against the teacher and each other.

    Parameters
    ----------
    students : list of fitted BINN estimators
        Fits of the same cell from different starts.
    teacher : TeacherDataset
    X : array-like
        Samples for the activations (held-out data).

    Returns
    -------
    pandas.DataFrame
        One row per pathway layer: ``n_students``; ``weight_vs_teacher_min``
        and ``activation_vs_teacher_min`` (the lowest layer recovery of any
        student against the teacher); ``weight_pairwise_min``,
        ``weight_pairwise_mean``, ``activation_pairwise_min``,
        ``activation_pairwise_mean`` over every ordered pair of distinct
        students (student ``b`` scored against student ``a`` in the
        teacher's place, aligned the same way as against the teacher: 1
        when two fits are the same network up to the symmetries; NaN with
        one student).

    Examples
    --------
    >>> from sklearn_binn import TeacherDataset
    >>> from sklearn_binn.datasets import make_pathway_mask
    >>> teacher = TeacherDataset(make_pathway_mask(12, depth=1, random_state=0),
    ...                          random_state=0)
    >>> X, _ = teacher.sample(100, random_state=0)
    >>> same = teacher.to_estimator()
    >>> table = restart_agreement([same, same], teacher, X)
    >>> table[["weight_vs_teacher_min", "weight_pairwise_min"]].round(6).values.tolist()
    [[1.0, 1.0]]
    """
    students = list(students)
    if not students:
        raise ValueError("restart_agreement needs at least one student; got none.")
    vs_teacher = [recovery_report(s, teacher, X).layers for s in students]
    pairs = []
    for a, b in itertools.permutations(range(len(students)), 2):
        pairs.append(recovery_report(students[b], student_as_teacher(students[a], teacher),
                                     X).layers)
    rows = []
    for layer in vs_teacher[0].index:
        row = {"layer": int(layer), "n_students": len(students)}
        for target in ("weight", "activation"):
            column = f"{target}_recovery"
            row[f"{target}_vs_teacher_min"] = float(min(r.loc[layer, column]
                                                        for r in vs_teacher))
            values = [float(p.loc[layer, column]) for p in pairs]
            row[f"{target}_pairwise_min"] = min(values) if values else np.nan
            row[f"{target}_pairwise_mean"] = float(np.mean(values)) if values else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_counts(cells, by):
    """How many cells got each verdict, per group.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per cell with a ``verdict`` column (e.g. a study's student
        rows of layer 0).
    by : list of str
        The grouping columns.

    Returns
    -------
    pandas.DataFrame
        ``by``, one column per verdict of :data:`VERDICTS` (cell counts) and
        ``n_cells``.

    Examples
    --------
    >>> cells = pd.DataFrame({"task": ["regression"] * 3,
    ...                       "verdict": ["recovered", "recovered", "no fit"]})
    >>> verdict_counts(cells, ["task"]).set_index("task").loc["regression"].tolist()
    [2, 0, 0, 1, 3]
    """
    unknown = sorted(set(cells["verdict"]) - set(VERDICTS))
    if unknown:
        raise ValueError(f"Unknown verdict(s) {unknown}; the verdicts are {list(VERDICTS)}.")
    counts = (cells.groupby([*by, "verdict"], sort=False).size().unstack("verdict")
              .reindex(columns=list(VERDICTS)).fillna(0).astype(int))
    counts.columns.name = None
    counts["n_cells"] = counts.sum(axis=1)
    return counts.reset_index()
