r"""How accurate the optimum is: a-posteriori error bounds and penalty deflation (docs/theory.md §3).

Every eigenvalue the engine reports comes with a bound on its absolute error that is computed
from the eigenpairs themselves, never from a cut-off relative to the largest eigenvalue. The
uniqueness verdict, the zero cut of :math:`[T]_{+,d}` and ``Solution.alternative`` all use this
bound, so a penalty :math:`-\tfrac{\lambda}{2}K^+` with huge entries (ill-conditioned ``K``) no
longer widens them.

Eigenvalue error (:func:`eigenpair_error`)
------------------------------------------
For a symmetric :math:`M` and any vector :math:`v \ne 0` and number :math:`w`, some eigenvalue of
:math:`M` lies within :math:`\|Mv - wv\|_2/\|v\|_2` of :math:`w` (Bauer–Fike for normal
matrices). The engine evaluates the residual of each leading computed pair and adds
:math:`2N\varepsilon\,\||M|\,|v|\|_2`, which bounds both the rounding of the residual evaluation
(componentwise: :math:`|fl(Mv) - Mv| \le N\varepsilon|M||v|`) and a relative perturbation of
each entry of :math:`M` by :math:`N\varepsilon` from forming it (the eigenvalues of
:math:`M + E` with :math:`|E| \le \eta|M|` move by at most :math:`\eta\,|v|^T|M||v|`). The
bound is componentwise, so a huge diagonal penalty entry :math:`p_i` enters only through
:math:`p_i|v_i|`, which is small on the eigenvectors of non-negative eigenvalues
(:math:`\sum_i p_i v_i^2 \le \|B\|_2`). The index of the matched eigenvalue is the computed
order (LAPACK's drivers sort; the Lanczos path checks that no eigenvalue was missed).

What that gives per dtype (``eps`` = 2.2e-16 float64, 1.2e-7 float32), for the eigenvalues
that decide the optimum (the leading :math:`d + 1`):

- without a penalty (:math:`\lambda = 0`): :math:`O(N\varepsilon\|B\|)` with :math:`B = A`,
  :math:`I - \tfrac{\beta}{2}L`, :math:`L` or :math:`K^{1/2}AK^{1/2}`, independent of
  :math:`\kappa(K)` for O1–O3;
- with a penalty: the target is formed in :math:`K`'s eigenbasis,
  :math:`U_r^T T U_r = U_r^T B U_r - \mathrm{diag}(\lambda/(2\mu))`, so :math:`K^+` is an exact
  diagonal and the bound stays :math:`O(N\varepsilon(\|B\| + \sqrt{p_{\max}\|B\|}))` in the
  worst case and is observed at :math:`10^{-7}`–:math:`10^{-13}` for :math:`\kappa(K)` up to
  :math:`10^{15}`; it is *reported* for each solve (``Solution.eigenvalue_error``).
- Sensitivity to ``K`` itself: the smallest eigenvalues :math:`\mu_i` of ``K`` are known only to
  :math:`\pm N\varepsilon\|K\|`; through :math:`p_i = \lambda/(2\mu_i)` this moves a non-negative
  eigenvalue of :math:`T` by at most about :math:`8N\varepsilon\|B\|^2\|K\|/\lambda` (first order,
  using :math:`\sum_i p_i^2 v_i^2 \le (\|B\| + \theta)^2`), again independent of :math:`\kappa(K)`.
  This is a property of the input, not of the solver, and is not included in the bound.

Penalty deflation (:func:`deflate_penalty`)
-------------------------------------------
Write :math:`T = B - \mathrm{diag}(p)` (eigen-coordinates of ``K``, :math:`b \ge \lambda_{\max}(B)`)
and split the coordinates into :math:`S` and :math:`D` with :math:`\pi = \min_{i\in D}p_i > b`.
Then :math:`T_{DD} \preceq (b - \pi)I \prec 0`, and

1. :math:`\lambda_i(T_{SS}) \le \lambda_i(T)` for :math:`i \le |S|` (Cauchy interlacing);
2. for :math:`\theta \ge 0`, Haynsworth's inertia formula with the Schur complement
   :math:`T_{SS} - \theta I - T_{SD}(T_{DD} - \theta I)^{-1}T_{DS}`, whose last term is PSD with
   norm at most :math:`\epsilon = \|B_{SD}\|_2^2/(\pi - b)`, gives
   :math:`\#\{\lambda(T) > \theta\} \le \#\{\lambda(T_{SS}) > \theta - \epsilon\}`, i.e.
   :math:`\lambda_i(T) \le \lambda_i(T_{SS}) + \epsilon` for every positive :math:`\lambda_i(T)`.

So the directions whose penalty exceeds :math:`b` do *not* carry positive eigenvalues on their
own, but they are coupled to the others: dropping them is exact only up to :math:`\epsilon`.
The engine drops the largest set :math:`D` with :math:`\epsilon \le \varepsilon\, b` (the
rounding of the data) that leaves at least :math:`d + 1` coordinates (so that :math:`\lambda_{d+1}`,
which decides the gap, is always computed rather than hidden among the dropped ones), using
:math:`\|B_{SD}\|_2^2 \le \sum_{j \in D}\|B_{:,j}\|_2^2`, and adds
:math:`\epsilon` to the eigenvalue error. :math:`[T_{SS}]_{+,d}` is feasible and its loss is
exactly :math:`\text{const} - \sum\max(\lambda_i(T_{SS}),0)^2`, so the reported loss is attained.

Loss error (:func:`loss_error`)
-------------------------------
With every used eigenvalue accurate to :math:`e`, the soft minima
:math:`\text{const} - \sum_{i\le d}\max(\lambda_i,0)^2` are accurate to
:math:`\sum_i (2|\lambda_i| + e)e` plus the rounding :math:`N\varepsilon(|\text{const}| +
\sum\lambda_i^2)` of the sums; the Ky Fan minima :math:`\pm\sum_{i\le d}\lambda_i` to
:math:`d\,e + N\varepsilon\sum|\lambda_i|`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import backend as B
from ..protocols import Array

if TYPE_CHECKING:
    from .engine import Solution

__all__ = [
    "SpectralMatrix",
    "eigenpair_error",
    "deflate_penalty",
    "refine_penalised",
    "loss_error",
    "literal_loss_tolerance",
]


@dataclass(frozen=True)
class SpectralMatrix:
    r"""The matrix whose eigenpairs solve an objective, in an orthonormal basis of its subspace.

    Attributes
    ----------
    matrix : array, shape (r, r)
        The symmetric spectral matrix :math:`M` (a target :math:`T` or a Ky Fan matrix).
    basis : array, shape (N, r), or None
        Orthonormal basis :math:`Q` with the full matrix :math:`QMQ^T`; ``None`` means the standard
        basis (``r = N``).
    deflation_error : float
        Bound :math:`\epsilon` on how much the dropped penalty directions could raise a positive
        eigenvalue (module docstring); 0 when nothing was dropped.
    free_part, penalty : array, shape (r, r) and (r,), or None
        For a penalised target, ``matrix = free_part - diag(penalty)`` kept apart, so the leading
        eigenpairs can be refined (:func:`refine_penalised`).
    """

    matrix: Array
    basis: Array = None
    deflation_error: float = 0.0
    free_part: Array = None
    penalty: Array = None


def eigenpair_error(M: Array, w: Array, V: Array, k: int, nonnegative_only: bool = False) -> float:
    r"""Bound on the absolute error of the ``k`` leading computed eigenvalues of symmetric ``M``.

    .. math:: e = \max_{i<k}\; e_i,\qquad e_i = \frac{\|Mv_i - w_iv_i\|_2 + 2N\varepsilon\,\||M|\,|v_i|\|_2}{\|v_i\|_2}

    With ``nonnegative_only`` (the ``psd-top`` rule) the maximum runs over the pairs that may be
    non-negative, :math:`w_i + e_i \ge 0`: the others are dropped from :math:`[T]_{+,d}` whatever
    their exact value, so their (penalty-sized) errors decide nothing.

    Parameters
    ----------
    M : array, shape (n, n)
    w : array, shape (>= k,)
        Computed eigenvalues, in the order the rule uses.
    V : array, shape (n, >= k)
        The matching computed eigenvectors.
    k : int
        How many leading pairs to certify.

    Returns
    -------
    float
        ``0.0`` when ``k == 0``.
    """
    k = min(int(k), int(w.shape[0]))
    if k == 0:
        return 0.0
    xp = B.namespace(M)
    Vk = V[:, :k]
    n = M.shape[0]
    eps = B.eps(M.dtype, xp)
    residual = xp.linalg.vector_norm(M @ Vk - Vk * w[None, :k], axis=0)
    rounding = 2 * n * eps * xp.linalg.vector_norm(xp.abs(M) @ xp.abs(Vk), axis=0)
    norms = xp.linalg.vector_norm(Vk, axis=0)
    bound = (residual + rounding) / xp.where(norms > 0, norms, xp.ones_like(norms))
    if nonnegative_only:
        bound = xp.where(w[:k] + bound >= 0, bound, xp.zeros_like(bound))
    return float(xp.max(bound))


def deflate_penalty(T: Array, B_r: Array, p: Array, keep_at_least: int = 1) -> tuple[np.ndarray, float]:
    r"""Drop the eigen-coordinates whose penalty makes them irrelevant to positive eigenvalues.

    Parameters
    ----------
    T : array, shape (r, r)
        :math:`B_r - \mathrm{diag}(p)`.
    B_r : array, shape (r, r)
        The penalty-free part (symmetric).
    p : array, shape (r,)
        The penalty diagonal :math:`\lambda/(2\mu_i) \ge 0`.
    keep_at_least : int
        Never drop below this many coordinates (the engine passes :math:`d + 1`); at least 1.

    Returns
    -------
    keep : numpy.ndarray of int
        Indices of the retained coordinates :math:`S` (ascending).
    bound : float
        :math:`\epsilon = \sum_{j\in D}\|B_{:,j}\|^2/(\min_D p - b)` (module docstring), 0 if
        nothing was dropped.
    """
    xp = B.namespace(T)
    r = T.shape[0]
    eps = B.eps(T.dtype, xp)
    p_np = np.asarray(B.to_numpy(p), dtype=np.float64)
    absB = B.to_numpy(xp.sum(xp.abs(B_r), axis=1))
    b = float(np.max(absB)) if r else 0.0  # ||B_r||_inf >= ||B_r||_2 >= lambda_max(B_r)
    col2 = np.asarray(B.to_numpy(xp.sum(B_r * B_r, axis=0)), dtype=np.float64)
    order = np.argsort(-p_np, kind="stable")
    budget = eps * max(b, np.finfo(np.float64).tiny)
    dropped, bound, coupling = 0, 0.0, 0.0
    for count, j in enumerate(order[: max(r - max(keep_at_least, 1), 0)], start=1):
        margin = p_np[j] - b
        coupling += col2[j]
        if margin <= 0 or coupling / margin > budget:
            break
        dropped, bound = count, coupling / margin
    keep = np.sort(order[dropped:])
    return keep, bound


#: Rayleigh–Ritz sweeps of :func:`refine_penalised`; one already reaches round-off in practice
#: (observed: eigenvalue errors from 1e-7 to 1e-14 at kappa(K) = 7e14), the second confirms it.
REFINE_SWEEPS = 2


def refine_penalised(B_r: Array, p: Array, w: Array, V: Array, k: int) -> tuple[Array, Array]:
    r"""Refine the ``k`` leading eigenpairs of :math:`T = B_r - \mathrm{diag}(p)` (descending order).

    Only the leading pairs with :math:`\theta \ge -b` are refined and returned (the others never enter
    :math:`[T]_{+,d}`). A backward-stable eigensolver returns eigenvectors whose components :math:`v_i` in heavily
    penalised coordinates carry absolute errors of order :math:`\varepsilon`, which the penalty
    :math:`p_i` magnifies into eigenvalue errors of order :math:`\varepsilon p_i`. An exact
    eigenvector satisfies :math:`v_i = (B_rv)_i/(p_i + \theta)`, a contraction by at most
    :math:`1/3` on the coordinates :math:`D = \{p_i > 4b\}` (:math:`b = \|B_r\|_\infty`,
    :math:`\theta \ge -b`); each sweep applies it three times to every vector, then does a
    Rayleigh–Ritz step on their span, whose values are lower bounds converging to the eigenvalues
    (second order in the vector error), and the returned vectors get the same componentwise
    correction once more so that their residuals, hence :func:`eigenpair_error`, are sharp. The
    Rayleigh–Ritz block is every given pair with :math:`\theta \ge -b` (the lightly penalised
    subspace, separated from the rest by more than :math:`2b`), even when ``k`` is smaller: inside
    that subspace the given vectors are only accurate to :math:`\varepsilon\|T\|/\text{gap}`.
    """
    xp = B.namespace(B_r)
    k = min(int(k), int(w.shape[0]))
    if k == 0:
        return w, V
    b = float(xp.max(xp.sum(xp.abs(B_r), axis=1)))
    heavy = p > 4 * b
    # Only the leading pairs with theta >= -b are refined (a prefix: w is descending). A pair below
    # -b lives on penalised coordinates; letting it into the Rayleigh-Ritz block would mix the
    # rounding of its O(p) entries into the others.
    k = int(B.to_numpy(xp.sum(xp.astype(w[:k] >= -b, xp.int64))))
    if b == 0 or k == 0 or not bool(xp.any(heavy)):
        return w, V
    # The Rayleigh-Ritz block holds *every* pair with theta >= -b, not only the k leading ones: the
    # solver's vectors are accurate only to eps ||T|| / gap inside the lightly penalised subspace, and
    # only the whole of it is separated (by more than 2b) from the rest; a block of k < its dimension
    # leaves the k leading values with errors ~1e-5 (found by mutation testing, issue 13).
    block = int(B.to_numpy(xp.sum(xp.astype(w >= -b, xp.int64))))
    X, theta = V[:, :block], w[:block]

    def correct(X: Array, theta: Array) -> Array:
        # For theta >= -b, p_i + theta > 3b makes the map a contraction (Ritz values of the block
        # can dip slightly below -b; those columns are left as they are).
        mask = heavy[:, None] & (theta >= -b)[None, :]
        denom = xp.where(mask, p[:, None] + theta[None, :], xp.ones_like(X))
        for _ in range(3):
            X = xp.where(mask, (B_r @ X) / denom, X)
        return X

    for _ in range(REFINE_SWEEPS):
        Q, _ = B.qr(correct(X, theta))
        theta, W = B.eigh_top(Q.T @ (B_r @ Q) - Q.T @ (p[:, None] * Q), block)
        X = Q @ W
    X = correct(X, theta)
    X = X / xp.linalg.vector_norm(X, axis=0)[None, :]
    theta, X = theta[:k], X[:, :k]
    w_out = xp.concat([theta, w[k:]])
    V_out = xp.concat([B.fix_signs(X), V[:, k:]], axis=1)
    return w_out, V_out


def loss_error(rule: str, w_sel: Array, err: float, const: float, n: int, eps: float) -> float:
    r"""Bound on the error of the closed-form minimum from eigenvalue errors ``err`` (module docstring)."""
    w = np.abs(np.asarray(B.to_numpy(w_sel), dtype=np.float64))
    if rule == "psd-top":
        return float(np.sum((2 * w + err) * err) + n * eps * (abs(const) + np.sum(w**2)))
    return float(w.size * err + n * eps * np.sum(w))


def literal_loss_tolerance(solution: Solution, A: Array, K: Array) -> float:
    r"""How far the loss recomputed from its definition at ``solution``'s ``C`` may differ from ``solution.loss``.

    The reported minimum is accurate to ``solution.loss_error``. Recomputing the loss in the
    working dtype rounds each of the :math:`N^2` entries of :math:`ZZ^T` (or the :math:`d^2` of
    :math:`Z^TZ`) by :math:`N\varepsilon\|Z\|_F^2` and the sum of squares by
    :math:`N^2\varepsilon`: together at most :math:`4(N + d)\varepsilon(\|Z\|_F^2 + \|A\|_F + \sqrt d)^2`;
    a graph term :math:`\mathrm{tr}(Z^TMZ)` (:math:`M = A` or :math:`\beta L`,
    :math:`\|L\|_2 \le 2\|A\|_\infty`) errs by :math:`N\varepsilon(1 + 2\beta)\|A\|_\infty\|Z\|_F^2`;
    the penalty :math:`\lambda\,\mathrm{tr}(C^TKC)`, evaluated as :math:`\sum C\circ(KC)`, by
    :math:`N\varepsilon\lambda\|K\|_\infty\|C\|_F^2`. ``A`` and ``K`` are the relation and Gram
    matrices ``solution`` was solved for.
    """
    xp = B.namespace(solution.embedding)
    Z, C = solution.embedding, solution.coef
    n, d = Z.shape
    eps = B.eps(Z.dtype, xp)
    z2 = float(xp.sum(Z * Z))
    normA_F = float(xp.linalg.vector_norm(xp.reshape(A, (-1,))))
    normA_inf = float(xp.max(xp.sum(xp.abs(A), axis=1)))
    beta = float(solution.options.get("beta", 0.0))
    tol: float = solution.loss_error + 4 * (n + d) * eps * (z2 + normA_F + d**0.5) ** 2
    tol += n * eps * (1 + 2 * beta) * normA_inf * z2
    reg = float(solution.options.get("reg", 0.0))
    if reg:
        tol += n * eps * reg * float(xp.max(xp.sum(xp.abs(K), axis=0))) * float(xp.sum(C * C))
    return tol
