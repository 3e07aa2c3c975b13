"""The torch building blocks: the sparse layer, its dense-masked reference, the BINN stack."""

from ._module import ACTIVATIONS, BINNModule
from ._sparse import DenseMaskedLinear, SparseLinear

__all__ = ["ACTIVATIONS", "BINNModule", "DenseMaskedLinear", "SparseLinear"]
