"""The engine's collaborators implement the declared protocols (kssl_theory.protocols).

Oracle: the protocol classes themselves (runtime_checkable isinstance checks the members exist), plus
a behavioural check that the clique fast path's stand-ins act as the operators they claim to be.
"""

from __future__ import annotations

import numpy as np

import kssl_theory as kt
from kssl_theory.graphs import RelationGraph
from kssl_theory.kernel_regime.engine import _BlockRelation, _IdentityFactor
from kssl_theory.kernel_regime.kernel_factor import KernelFactor
from kssl_theory.protocols import FactorOperators, KernelFactorOperators, RelationOperators

K = kt.kernels.rbf(np.random.default_rng(0).standard_normal((6, 2)), bandwidth=1.0)


def test_kernel_factor_and_eigen_coordinates_implement_their_protocols():
    kf = KernelFactor(K)
    assert isinstance(kf, KernelFactorOperators) and isinstance(kf, FactorOperators)
    coords, _ = kf.eigen_coordinates()
    assert isinstance(coords, FactorOperators)


def test_relation_graphs_implement_the_relation_protocol():
    for rel in (RelationGraph(kt.graphs.adjacency([0, 0, 1, 1, 2, 2])), RelationGraph.from_groups([0, 0, 1, 1, 2, 2])):
        assert isinstance(rel, RelationOperators)


def test_clique_stand_ins_are_the_identity_factor_and_a_diagonal_relation():
    """The identity factor acts as K = I: K^+ X = P X = R X = R^T X = X (root R = I), c K^+ = c I and
    c K^+ X = c X. The block relation
    of values (a, lap, deg) holds diag(a), diag(lap) and deg, so L = diag(lap) exactly."""
    ident = _IdentityFactor(3, np, np.float64, "cpu")
    assert isinstance(ident, FactorOperators)
    X = np.arange(6.0).reshape(3, 2)
    for op in (ident.solve, ident.project, ident.root, ident.root_t):
        np.testing.assert_array_equal(op(X), X)
    np.testing.assert_array_equal(ident.solve_scaled_identity(2.5), 2.5 * np.eye(3))
    np.testing.assert_array_equal(ident.solve_scaled(2.5, X), 2.5 * X)
    rel = _BlockRelation(np.array([3.0, 0.0]), np.array([0.0, 3.0]), np.array([3.0, 3.0]), np, np.float64, "cpu")
    assert isinstance(rel, RelationOperators)
    np.testing.assert_array_equal(rel.laplacian, np.diag([0.0, 3.0]))
    np.testing.assert_array_equal(rel.A, np.diag([3.0, 0.0]))
