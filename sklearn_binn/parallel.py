"""Running many fits at once: the joblib backends the package's studies use.

:func:`~sklearn_binn.stability_report` (``backend=``) and the benchmark
scripts (``--backend``) run their fits through joblib. :func:`joblib_backend`
is the ``joblib.parallel_config`` they enter: ``"loky"`` (processes, the
default), ``"threading"``, ``"dask"`` (once ``distributed`` is imported) or
``"ray"`` (registered here, with a clear error where Ray is missing).
"""

from ._utils import joblib_backend

__all__ = ["joblib_backend"]
