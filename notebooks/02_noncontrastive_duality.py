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
# # 2. Non-contrastive objectives and the duality identity
#
# Contrastive losses pull positive pairs together *and* push everything else apart; non-contrastive
# ones (VICReg, Barlow Twins) instead ask for invariance plus a decorrelated embedding covariance.
# In the kernel regime the two families are one family (docs/theory.md §3): the VICReg-like loss
#
# $$\mathcal L_V = \|Z^TZ - I_d\|_F^2 + \beta\,\mathrm{tr}(Z^TLZ) + \lambda\,\mathrm{tr}(C^TKC)$$
#
# equals a *contrastive* loss $\|ZZ^T - T\|_F^2$ + const with target $T = I - \tfrac{\beta}{2}L$
# (+ the penalty). This notebook derives that identity with SymPy, checks it numerically, finds
# what it implies for the augmentation graph — including an exact correspondence between O2 and O1
# — and compares with the two hard-constrained objectives, Laplacian eigenmaps (O3) and the
# whitened map (O4).

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Math, display
from sklearn.decomposition import KernelPCA

import kssl_theory as kt
from kssl_theory.bridge import idealization
from kssl_theory.experiments import datasets
from kssl_theory.symbolic import derive

plt.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})
warnings.simplefilter("ignore", kt.IllConditionedWarning)

# %% [markdown]
# ## 1. The identity, derived

# %%
tex = derive.latex_formulas()
for name in ("loss", "target", "minimum"):
    print(name)
    display(Math(tex["vicreg"][name]))
print("centred variant (λ = 0), target:")
display(Math(tex["vicreg_centred"]["target"]))

# %% [markdown]
# The trick is $\|Z^TZ - I_d\|^2 = \mathrm{tr}(G^2) - 2\,\mathrm{tr}(G) + d$ and
# $\mathrm{tr}(Z^TLZ) = \mathrm{tr}(GL)$, both functions of $G = ZZ^T$ only. Numerically, on a random
# candidate (the loss is evaluated from its definition by `kt.loss`, never through the target):

# %%
rng = np.random.default_rng(0)
groups = np.repeat(np.arange(5), 3)
A = kt.graphs.adjacency(groups)
L = kt.graphs.laplacian(A)
Z = rng.normal(size=(15, 4))
beta = 0.7
lhs = float(kt.loss("vicreg", Z, A, beta=beta))
T = np.eye(15) - beta / 2 * L
rhs = np.sum((Z @ Z.T - T) ** 2) + 4 - np.sum(T * T)
print(f"VICReg-like loss {lhs:.10f}  vs  contrastive form {rhs:.10f}")

# %% [markdown]
# ## 2. What the target looks like on the augmentation graph
#
# With $n$ groups of $m$ views and self-loops, $L = mI - A$ has eigenvalue 0 on the group indicators
# and $m$ on within-group zero-sum vectors. So $T = I - \tfrac{\beta}{2}L$ has eigenvalue **1**
# (multiplicity $n$, "one direction per sample") and $1 - \beta m/2$ (multiplicity $N - n$,
# "directions that separate views of one sample"). If $d > n$, the optimum spends its extra
# dimensions on within-group directions exactly when $1 - \beta m/2 > 0$, i.e. $\beta < 2/m$ —
# and then it is no longer invariant to augmentations (docs/theory.md §3, §6). Let us see the threshold
# on a toy set: 12 blob points × 3 views, $d = n + 6$.

# %%
X0, y0 = datasets.make_blobs(12, n_classes=3, spread=0.8, seed=3)
views = datasets.make_views(X0, 3, datasets.PointAugmentation(0.15), labels=y0, seed=4)
X, g = views.X, views.groups
n, m, N = views.n_groups, views.n_views, X.shape[0]
K = kt.kernels.rbf(X, bandwidth=0.3)
A = kt.graphs.adjacency(g)
betas = np.linspace(0.05, 1.2, 24)
spread, inv = [], []
for b in betas:
    rep = idealization(kt.solve("vicreg", K, A, n + 6, beta=b), g)
    spread.append(rep.max_within_class_spread)
    inv.append(rep.invariant)
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.plot(betas, spread, marker="o")
ax.axvline(2 / m, color="red", ls="--", label="β = 2/m")
ax.set_xlabel("β (weight of the invariance term)")
ax.set_ylabel("max distance of a view to its group's mean code")
ax.set_title(f"O2 optimum with d = n + 6 = {n + 6}: invariant iff β ≥ 2/m")
ax.legend()
plt.show()
print("invariant exactly for β >= 2/m:", all(i == (b >= 2 / m) for b, i in zip(betas, inv)))

# %% [markdown]
# ## 3. An exact O2 ↔ O1 correspondence (also with the penalty)
#
# On this graph $L = mI - A$, so
#
# $$T_{O2}(\beta,\lambda) = I - \tfrac{\beta}{2}(mI - A) - \tfrac{\lambda}{2}K^{-1}
#   = \big(1 - \tfrac{\beta m}{2}\big)I + \tfrac{\beta}{2}\Big(A - \tfrac{\lambda}{\beta}K^{-1}\Big)
#   = \big(1 - \tfrac{\beta m}{2}\big)I + \tfrac{\beta}{2}\,T_{O1}\big(\lambda' = 2\lambda/\beta\big).$$
#
# The two targets have the same eigenvectors, with eigenvalues related by an increasing affine map.
# Whenever the top-$d$ eigenvalues of $T_{O2}$ are positive, both optima use **the same
# $d$-dimensional subspace**; they differ only in how much weight each direction gets. (This is why, in
# the digits experiment, O2 with $\beta = 0.2, \lambda = 0.1$ and O1 with $\lambda = 1$ give identical
# linear-probe accuracies on standardised features.) A check:


# %%
def projector(sol):
    U, s, _ = np.linalg.svd(sol.embedding, full_matrices=False)
    U = U[:, s > 1e-10 * s[0]]
    return U @ U.T


for beta, lam in ((0.2, 0.1), (1.0, 0.05)):
    o2 = kt.solve("vicreg", K, A, 8, beta=beta, reg=lam)
    o1 = kt.solve("contrastive", K, A, 8, reg=2 * lam / beta)
    diff = np.linalg.norm(projector(o2) - projector(o1))
    print(
        f"β={beta}, λ={lam}: ‖P_O2 − P_O1(λ'={2 * lam / beta:g})‖ = {diff:.1e} (eigenvector round-off "
        f"~ ε‖T‖/gap = {np.finfo(float).eps * np.max(np.abs(o1.eigenvalues)) / o1.gap:.0e}); "
        f"top eigenvalues of T_O2 all positive: {bool(np.all(o2.eigenvalues[:8] > 0))}"
    )

# %% [markdown]
# ## 4. Hard constraints: Laplacian eigenmaps (O3) and the whitened map (O4)
#
# * **O3** minimises $\mathrm{tr}(Z^TLZ)$ subject to $Z^TZ = I_d$: the bottom-$d$ eigenvectors of $L$.
#   On the augmentation graph with $d \le n$ that is a $d$-dimensional subspace of the group
#   indicators — the same as O1/O2 at $\lambda = 0$, with the same tie when $d < n$.
# * **O4** constrains $W$ instead of $Z$ ($WW^T = I_d$, i.e. $C^TKC = I_d$) and maximises
#   $\mathrm{tr}(C^TKAKC)$: the top eigenvectors of $K^{1/2}AK^{1/2}$. It *depends on the kernel on the
#   training set*. With $A = I$ it is kernel PCA; with a centred $K$ it must agree with scikit-learn's
#   `KernelPCA` up to signs.

# %%
H = np.eye(N) - 1 / N
Kc = H @ K @ H
o4 = kt.solve("whitened", Kc, np.eye(N), 3)
kpca = KernelPCA(n_components=3, kernel="precomputed").fit_transform(Kc)
scale = np.linalg.norm(kpca, axis=0) / np.linalg.norm(o4.embedding, axis=0)
sign = np.sign(np.sum(kpca * o4.embedding, axis=0))
print(
    "O4 with A = I vs KernelPCA (after per-component scale and sign):",
    f"{np.max(np.abs(kpca - o4.embedding * scale * sign)):.1e}",
)
print("per-component scale factors:", np.round(scale, 6))

# %% [markdown]
# The scale factors are 1: O4 whitens $W$ ($C^TKC = I$), so $Z = K^{1/2}V$ has column norms
# $\sqrt{\mu_i}$ — exactly the norms of `KernelPCA`'s projections. The two agree up to sign.
#
# ## 5. The four induced kernels side by side
#
# Fresh views of the same 12 base points, grouped by base point (blocks of 3). O1, O2 ($\beta \ge 2/m$)
# and O3 at $d = n$ agree up to scale on the training views (all equal to a multiple of $A$), so off
# the training views they share one interpolation $K^{-1}k_x$ and their cosine heatmaps coincide. O4
# follows the kernel's own similarity and extends through $K^{-1/2}$, which is much better conditioned.

# %%
fresh = datasets.make_views(X0, 3, datasets.PointAugmentation(0.15), labels=y0, seed=40)
order = np.argsort(np.repeat(y0, 3) * 100 + fresh.groups, kind="stable")
Kf = kt.kernels.rbf(fresh.X, X, bandwidth=0.3)
sols = {
    "O1 contrastive": kt.solve("contrastive", K, A, n),
    "O2 VICReg-like, β=1": kt.solve("vicreg", K, A, n, beta=1.0),
    "O3 Laplacian eigenmaps": kt.solve("laplacian_eigenmaps", K, A, n),
    "O4 whitened map": kt.solve("whitened", K, A, n),
}
fig, axes = plt.subplots(1, 4, figsize=(17, 4), gridspec_kw={"wspace": 0.35})
for ax, (name, sol) in zip(axes, sols.items()):
    M = np.asarray(kt.cosine_matrix(sol.induced_kernel(Kf)))[np.ix_(order, order)]
    im = ax.imshow(M, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title(
        f"{name}\nalignment {kt.alignment(sol.induced_kernel(Kf), fresh.groups):.2f}, "
        f"decorrelation {kt.decorrelation(sol.induced_kernel(Kf), fresh.groups):.2f}",
        fontsize=9,
    )
    ax.set_xlabel("fresh view (by class, then sample)")
    ax.grid(False)
axes[0].set_ylabel("fresh view")
fig.colorbar(im, ax=axes, fraction=0.015, label="cosine of k*")
plt.show()

# %% [markdown]
# How well the ridgeless extension transfers alignment depends on the conditioning of $K$: with a
# wider RBF bandwidth the base kernel itself aligns fresh views better, but O1's alignment *drops*
# because $K^{-1}k_x$ amplifies noise (docs/theory.md §4 calls the alignment claim "statistical, for a
# reasonable bandwidth" — this is what "reasonable" means here).

# %%
for bw in (0.2, 0.3, 0.5, 0.8, 1.5):
    Kb, Kfb = kt.kernels.rbf(X, bandwidth=bw), kt.kernels.rbf(fresh.X, X, bandwidth=bw)
    ks = kt.solve("contrastive", Kb, A, n).induced_kernel(Kfb)
    kb = kt.kernels.rbf(fresh.X, bandwidth=bw)
    print(
        f"σ={bw:<4} cond(K)={np.linalg.cond(Kb):.0e}  O1 alignment {kt.alignment(ks, fresh.groups):.2f} "
        f"decorrelation {kt.decorrelation(ks, fresh.groups):.2f} | base kernel alignment "
        f"{kt.alignment(kb, fresh.groups):.2f} decorrelation {kt.decorrelation(kb, fresh.groups):.2f}"
    )

# %% [markdown]
# ## Summary
#
# * Non-contrastive = contrastive with target $I - \tfrac{\beta}{2}L$: one spectral engine serves both.
# * On the augmentation graph, O2 at $(\beta,\lambda)$ and O1 at $\lambda' = 2\lambda/\beta$ share
#   eigenvectors; with positive top eigenvalues they pick the same subspace.
# * O2 is invariant iff $\beta \ge 2/m$ (when $d > n$); O3 equals O1/O2 at $\lambda = 0$; O4 is the one
#   objective whose *training* optimum depends on the kernel without any penalty.
