# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Idealized representations, and a bridge to the kernel regime
#
# [IR] asks what an SSL representation must look like for *every* downstream task that respects
# the augmentations to be solvable by a simple probe. Setting (docs/theory.md §5): a finite set of
# inputs, an equivalence relation $\sim$ given by augmentations with $C$ classes, and the tasks are
# all labellings constant on classes. An encoder gives each input a code $z \in \mathbb R^d$.
#
# **Theorem ([IR], linear probes).** Every invariant task is solved with zero error by an affine
# argmax probe $\arg\max_k (Wz + b)_k$ **iff** the encoder is *invariant* ($x \sim x' \Rightarrow
# z = z'$) and the class codes are *affinely independent* ($\mathrm{rank}[Z \mid \mathbf 1] = C$,
# which forces $d \ge C - 1$).
#
# We check the pieces of this statement, then ask (docs/theory.md §6, new) whether the closed-form
# optima of the kernel-regime objectives are idealized.

# %%
import warnings
from math import comb

import matplotlib.pyplot as plt
import numpy as np

import kssl_theory as kt
from kssl_theory.bridge import contrastive_codes_with_normal, idealization
from kssl_theory.experiments import datasets
from kssl_theory.idealized import affine_rank, is_idealized
from kssl_theory.idealized.codes import simplex_etf
from kssl_theory.idealized.probes import cover_count, linear_span_counterexample, radon_partition, separability
from kssl_theory.idealized.sample_efficiency import uniform_worst_case_risk

plt.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})
warnings.simplefilter("ignore", kt.IllConditionedWarning)

# %% [markdown]
# ## 1. Affine, not linear, independence
#
# A tempting reading of the condition is "the codes span a space of dimension $\ge C - 1$". It is
# not enough: $(1,0), (0,1), (\tfrac12,\tfrac12)$ span $\mathbb R^2$ ($= C - 1$), but the third code is
# the midpoint of the others, so "middle vs ends" is not separable by any affine probe. The package
# finds the bad task as a Radon partition and proves it unsolvable with a linear program.

# %%
ce = linear_span_counterexample()
print("codes:", ce.codes.tolist(), "| linear span dim:", ce.linear_span_dim, "| affine rank:", ce.affine_rank)
rp = radon_partition(ce.codes)
print("Radon witness task:", rp.labels, "| separable by an affine probe:", separability(ce.codes, rp.labels).separable)
etf = simplex_etf(4)
G = etf @ etf.T
print(
    f"simplex ETF for C=4 in R^{etf.shape[1]}: pairwise cosines "
    f"{np.unique(np.round(G[~np.eye(4, dtype=bool)] / np.diag(G)[0], 6))}, affine rank {affine_rank(etf)}"
)

# %% [markdown]
# ## 2. How many tasks does a $d$-dimensional code solve?
#
# Cover's function-counting theorem: $C$ codes in general position in $\mathbb R^d$ have
# $2\sum_{k=0}^{d}\binom{C-1}{k}$ affinely separable dichotomies, which equals all $2^C$ exactly when
# $d \ge C - 1$. Idealized codes need that many dimensions; fewer dimensions lose tasks quickly.

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for C in (4, 8, 12):
    dims = np.arange(1, C + 1)
    ax.plot(dims, [cover_count(C, int(d)) / 2**C for d in dims], marker="o", label=f"C = {C} classes")
    assert cover_count(C, C - 1) == 2**C and cover_count(C, C - 2) < 2**C
ax.set_xlabel("code dimension d")
ax.set_ylabel("fraction of binary tasks solvable")
ax.set_title("Cover's count: all tasks solvable iff d ≥ C − 1")
ax.legend()
plt.show()
print("direct formula check, C=8, d=3:", cover_count(8, 3), "=", 2 * sum(comb(7, k) for k in range(4)))

# %% [markdown]
# Invariance is what buys **sample efficiency**: with an invariant idealized encoder, the worst
# empirical-risk minimiser errs only on classes that no labelled example came from, so with $n$
# labelled examples and uniform classes its expected risk is $(1 - 1/C)^n$. Coarser augmentations
# (fewer classes) therefore need fewer labels.

# %%
ns = np.arange(0, 41)
fig, ax = plt.subplots(figsize=(7, 3.6))
for C in (2, 5, 10, 20):
    ax.plot(ns, [uniform_worst_case_risk(C, int(k)) for k in ns], label=f"C = {C}")
ax.set_xlabel("labelled examples n")
ax.set_ylabel("expected worst-case risk")
ax.set_title("Invariant idealized encoder: worst ERM risk (1 − 1/C)^n")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. The bridge: are kernel-regime optima idealized? (docs/theory.md §6)
#
# Take $n$ base points with $m$ views each, the augmentation graph, an RBF kernel ($K \succ 0$).
# The classes of [IR] are the groups. The spectral contrastive optimum (O1, $\lambda = 0$):
#
# * $d \ge n$: $G^* = A$, codes are invariant and the $n$ group codes orthonormal ⇒ **idealized**;
# * $d = n - 1$: not unique. The optimal group codes are projections of an orthonormal set onto a
#   hyperplane $u^\perp$; they are affinely independent iff $u^T\mathbf 1 \ne 0$. So some optima are
#   idealized and some are not, **at equal loss**.

# %%
X0, y0 = datasets.make_blobs(6, n_classes=2, spread=1.0, seed=5)
views = datasets.make_views(X0, 3, datasets.PointAugmentation(0.1), seed=6)
X, g = views.X, views.groups
n, m = views.n_groups, views.n_views
K = kt.kernels.rbf(X, bandwidth=1.0)
A = kt.graphs.adjacency(g)
full = kt.solve("contrastive", K, A, n)
print(f"d = n = {n}: idealized = {idealization(full, g).idealized}, unique = {full.is_unique}")
cut = kt.solve("contrastive", K, A, n - 1)
print(f"d = n-1: unique = {cut.is_unique}, optimal loss = {float(cut.loss):.6f}")
for name, u in (("u = 1 (u·1 ≠ 0)", np.ones(n)), ("u = e1 − e2 (u·1 = 0)", np.eye(n)[0] - np.eye(n)[1])):
    Z = contrastive_codes_with_normal(g, u)
    rep = is_idealized(Z, g)
    print(
        f"  {name:22s} loss = {float(kt.loss('contrastive', Z, A)):.6f}, idealized = {rep.idealized}"
        f"{'' if rep.idealized else ' — ' + '; '.join(rep.failing)}"
    )
random_optima = [idealization(cut.alternative(s), g).idealized for s in range(20)]
print(f"  random optima (Solution.alternative): {sum(random_optima)}/20 idealized")

# %% [markdown]
# A random optimum is idealized with probability one ($u^T\mathbf 1 = 0$ has measure zero), but the
# loss cannot tell the two kinds apart. The other objectives:
#
# * O2 with $d > n$ is invariant iff $\beta \ge 2/m$ (notebook 2 shows the threshold);
# * O3 with $d \le n$ is always invariant, idealized iff the codes are affinely independent.

# %%
for beta in (0.3, 2 / m, 1.0):
    rep = idealization(kt.solve("vicreg", K, A, n + 3, beta=beta), g)
    print(
        f"O2, d = n + 3, β = {beta:.3f} (2/m = {2 / m:.3f}): invariant = {rep.invariant}, idealized = {rep.idealized}"
    )
for d in (n - 2, n - 1, n):
    rep = idealization(kt.solve("laplacian_eigenmaps", K, A, d), g)
    print(f"O3, d = {d}: invariant = {rep.invariant}, affine rank = {rep.affine_rank}/{n}, idealized = {rep.idealized}")

# %% [markdown]
# ## 4. Idealized on the training views is not idealized off them
#
# The theorem is about a *finite* input set. The kernel-regime encoder is defined everywhere, and on
# fresh views of the same base points (new augmentations) its codes $f(x) = C^{*T}k_x$ are no longer
# exactly invariant: the spread of each group's codes grows with the augmentation noise, which is
# what the `alignment` experiment and notebook 5 measure on real data.

# %%
noise = np.array([0.02, 0.05, 0.1, 0.2, 0.4])
spreads, aligns = [], []
for s in noise:
    fresh = datasets.make_views(X0, 3, datasets.PointAugmentation(float(s)), seed=7)
    F = full.transform(kt.kernels.rbf(fresh.X, X, bandwidth=1.0))
    rep = is_idealized(F, fresh.groups)
    spreads.append(rep.max_within_class_spread)
    aligns.append(kt.alignment(F @ F.T, fresh.groups))
fig, ax1 = plt.subplots(figsize=(7, 3.6))
ax1.plot(noise, spreads, marker="o", color="C0", label="max within-group spread of codes")
ax1.set_xlabel("jitter of the fresh views (training views used 0.1)")
ax1.set_ylabel("max within-group spread", color="C0")
ax2 = ax1.twinx()
ax2.plot(noise, aligns, marker="s", color="C1", label="alignment (mean cosine)")
ax2.set_ylabel("alignment of fresh views", color="C1")
ax2.grid(False)
ax1.set_title("O1 optimum (idealized on training views) evaluated on fresh views")
fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.85))
plt.show()

# %% [markdown]
# ## Summary
#
# * Idealized for linear probes = invariant + affinely independent class codes ($d \ge C - 1$);
#   "spanning $C - 1$ dimensions" is not enough.
# * Kernel-regime optima on the augmentation graph are idealized on their training views when
#   $d \ge n$ (O1), when $\beta \ge 2/m$ (O2), and for O3 whenever the codes are affinely independent;
#   at $d = n - 1$, equal-loss optima can be idealized or not.
# * The guarantee concerns the training views only: new views of the same samples get codes that are
#   only approximately invariant.
