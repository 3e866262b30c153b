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
# # 3. The role of the kernel: regularisation, rank deficiency, out-of-sample behaviour
#
# In the kernel regime the embedding is a linear map on a kernel's feature space,
# $f(x) = W\varphi(x) = C^T k_x$, and the training embeddings are $Z = KC$. docs/theory.md §2 states a
# surprising **reachability lemma**: if $K \succ 0$, *every* PSD rank-$\le d$ matrix is a reachable
# training Gram matrix $G = ZZ^T$ (take $C = K^{-1}Y$). So without a penalty on $W$ the optimal
# training representation does not depend on the kernel at all. Where, then, does the kernel matter?
# The lemma names three places, and this notebook visits each one on a toy data set:
#
# 1. the **out-of-sample extension** $k^*(x,x') = k_x^T C^*C^{*T}k_{x'}$;
# 2. the **penalty** $\lambda\|W\|_{HS}^2 = \lambda\,\mathrm{tr}(C^TKC)$, which also breaks ties;
# 3. **rank deficiency** of $K$, which shrinks the reachable set.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np

import kssl_theory as kt
from kssl_theory.experiments import datasets

plt.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})

X0, y0 = datasets.make_moons(30, noise=0.08, seed=0)
views = datasets.make_views(X0, 3, datasets.PointAugmentation(0.06), labels=y0, seed=1)
X, groups = views.X, views.groups
A = kt.graphs.adjacency(groups)
n, N = views.n_groups, X.shape[0]
print(f"{n} base points x {views.n_views} views = {N} training views")

kernels = {
    "RBF σ=0.2": kt.kernels.get_kernel("rbf", bandwidth=0.2),
    "RBF σ=0.6": kt.kernels.get_kernel("rbf", bandwidth=0.6),
    "ReLU NTK": kt.kernels.get_kernel("ntk", depth=2, bias_var=0.1),
}

# %% [markdown]
# ## 1. Same training optimum, different kernels
#
# Spectral contrastive loss (O1) with the augmentation graph, $\lambda = 0$ and $d = n$: the optimum
# is $G^* = A$ for every kernel with $K \succ 0$ (docs/theory.md §4). We fit it with the scikit-learn-style
# estimator `KernelSSL` for three kernels and compare the training Gram matrices.

# %%
models = {}
for name, kern in kernels.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)
        models[name] = kt.KernelSSL("contrastive", kernel=kern, dim=n).fit(X, groups=groups)
    G = models[name].solution_.gram
    print(
        f"{name:10s}  cond(K) = {np.linalg.cond(kern(X)):.1e}   max|G* - A| = {np.max(np.abs(G - A)):.1e}   "
        f"loss = {float(models[name].solution_.loss):.1e}"
    )

# %% [markdown]
# Identical on the training views. Off them, the three representations are very different. Below,
# for one training view $x_j$ (the star), the colour is $k^*(x, x_j)$ over the plane: how strongly a
# new point is tied to $x_j$'s group. docs/theory.md §3: $k^*(x, x_j) = k_x^T K^{-1} G^*_{:,j}$ is the
# ridgeless kernel interpolant of the column $G^*_{:,j} = $ "is in $x_j$'s group". The intuition of
# docs/theory.md — "a new point correlates with $x_j$ as much as its kernel neighbours are related to
# $x_j$ in the graph" — is visible for the narrow RBF, but even there the interpolant overshoots
# (values well above 1, negative lobes), and for the wider RBF, whose $K$ has condition number
# ~1e13, it is dominated by huge oscillations away from the views: a ridgeless fit through three
# nearly coincident views per group is unstable. The NTK grows linearly away from the data.

# %%
g1, g2 = np.meshgrid(np.linspace(-1.6, 2.6, 110), np.linspace(-1.1, 1.6, 80))
grid = np.column_stack([g1.ravel(), g2.ravel()])
j = 3 * 7
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for ax, (name, model) in zip(axes, models.items()):
    val = model.induced_kernel(grid, X[j : j + 1]).reshape(g1.shape)
    lim = np.max(np.abs(val))
    cs = ax.contourf(g1, g2, val, levels=21, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.scatter(X[:, 0], X[:, 1], s=6, c="k")
    ax.scatter(*X[j], marker="*", s=250, c="gold", edgecolors="k")
    ax.set_title(f"{name}: k*(x, x_j)")
    ax.set_xlabel("x₁")
    fig.colorbar(cs, ax=ax)
axes[0].set_ylabel("x₂")
plt.show()

# %% [markdown]
# ## 2. The penalty makes the training representation kernel-dependent
#
# With $\lambda > 0$ the target becomes $T = A - \tfrac{\lambda}{2}K^{-1}$ (docs/theory.md §3): directions
# that are expensive in the RKHS norm ($v^TK^{-1}v$ large) are pushed below zero and truncated. The
# training Gram matrix now depends on the kernel, and $\lambda \to 0^+$ recovers $G^* = A$. Two
# summaries against $\lambda$: the relative distance $\|G^*_\lambda - A\|_F / \|A\|_F$ and the number
# of positive target eigenvalues (the dimension the optimum actually uses).

# %%
lams = np.logspace(-5, 1, 13)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for name, kern in kernels.items():
    K = kern(X)
    dist, npos = [], []
    for lam in lams:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kt.IllConditionedWarning)
            sol = kt.solve("contrastive", K, A, n, reg=lam)
        dist.append(np.linalg.norm(sol.gram - A) / np.linalg.norm(A))
        npos.append(int(np.sum(sol.eigenvalues > 0)))
    axes[0].plot(lams, dist, marker="o", label=name)
    axes[1].plot(lams, npos, marker="o", label=name)
for ax in axes:
    ax.set_xscale("log")
    ax.set_xlabel("penalty λ")
    ax.legend()
axes[0].set_ylabel("‖G*(λ) − A‖_F / ‖A‖_F")
axes[0].set_title("training Gram matrix leaves A as λ grows")
axes[1].axhline(n, color="gray", ls=":")
axes[1].set_ylabel("# positive eigenvalues of T")
axes[1].set_title(f"dimensions the optimum uses (n = {n}, dotted)")
plt.show()

# %% [markdown]
# ## 3. Ties: at $d < n$ the optimum is not unique — and the penalty picks one
#
# With $\lambda = 0$ the target $A$ has eigenvalue $m$ with multiplicity $n$. Asking for $d < n$
# dimensions cuts that tie: *any* $d$-dimensional subspace of the group indicators is optimal. The
# solver says so (`is_unique`, `gap`) and `Solution.alternative(seed)` returns another optimum of equal
# loss. Their induced kernels agree on nothing off the training set. A small penalty breaks the tie
# in favour of the group combinations that are smoothest under the kernel, and the optimum becomes
# unique. (We use the narrow RBF here: the solver decides ties relative to the scale of the target,
# and with $\lambda > 0$ an ill-conditioned $K$ makes $\|\tfrac{\lambda}{2}K^{-1}\|$ huge, so with the
# σ = 0.6 kernel it conservatively reports small real gaps as ties.)

# %%
K = kernels["RBF σ=0.2"](X)
Kg = kernels["RBF σ=0.2"](grid, X)
sol0 = kt.solve("contrastive", K, A, 5)
alt = sol0.alternative(1)
print(
    f"λ=0, d=5: unique={sol0.is_unique}, gap={sol0.gap:.1e}, "
    f"losses {float(sol0.loss):.6f} vs {float(kt.loss('contrastive', alt.embedding, A)):.6f}"
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", kt.IllConditionedWarning)
    sol_reg = kt.solve("contrastive", K, A, 5, reg=1e-3)
print(f"λ=1e-3, d=5: unique={sol_reg.is_unique}, gap={sol_reg.gap:.1e}")
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for ax, (title, s) in zip(
    axes, (("λ=0, solver's optimum", sol0), ("λ=0, another optimum", alt), ("λ=1e-3, the unique optimum", sol_reg))
):
    val = np.sqrt(np.clip(np.einsum("ij,ij->i", s.transform(Kg), s.transform(Kg)), 0, None)).reshape(g1.shape)
    cs = ax.contourf(g1, g2, val, levels=20, cmap="viridis")
    ax.scatter(X[:, 0], X[:, 1], s=6, c="w")
    ax.set_title(f"{title}: ‖f(x)‖")
    ax.set_xlabel("x₁")
    fig.colorbar(cs, ax=ax)
axes[0].set_ylabel("x₂")
plt.show()

# %% [markdown]
# The solver's own pick at $\lambda = 0$ is the indicators of the first five groups (a deterministic,
# arbitrary choice): only those five base points are represented at all. A random optimum spreads
# over all points. The penalised optimum puts its five dimensions on group combinations that are
# cheap in the RKHS norm.
#
# ## 4. Rank deficiency shrinks the reachable set
#
# A linear kernel on 2-D inputs has rank 2; a degree-2 polynomial kernel has rank 6. Then
# $P = KK^+ \ne I$ and the target is $T = PAP$ (docs/theory.md §3): the representation can only use
# directions in range($K$). However large $d$, the loss stays positive and views of one point cannot
# all be collapsed while different points are kept apart. We compare the optimal loss against $d$.

# %%
rank_kernels = {
    "linear (rank 2)": kt.kernels.linear(X),
    "polynomial p=2 (rank 6)": kt.kernels.polynomial(X, degree=2, coef0=1.0),
    "RBF σ=0.6 (full rank)": kernels["RBF σ=0.6"](X),
}
dims = [1, 2, 4, 6, 10, 20, 30]
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, K in rank_kernels.items():
    losses = []
    for d in dims:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kt.IllConditionedWarning)
            sol = kt.solve("contrastive", K, A, d)
        losses.append(float(sol.loss))
    print(
        f"{name:24s} numerical rank {sol.rank:3d}; alignment of training views "
        f"{kt.alignment(sol.gram, groups):.3f}, decorrelation {kt.decorrelation(sol.gram, groups):.3f}"
    )
    ax.plot(dims, losses, marker="o", label=name)
ax.axhline(0, color="k", lw=0.8)
ax.set_xlabel("embedding dimension d")
ax.set_ylabel("optimal loss ‖ZZᵀ − A‖²")
ax.set_title("rank-deficient kernels cannot reach G* = A")
ax.legend()
plt.show()

# %% [markdown]
# ## 5. Far from the data, and the price of interpolation
#
# For an RBF kernel $k_x \to 0$ away from all data, hence $k^*(x,\cdot) \to 0$: a far-away input gets
# the zero embedding (docs/theory.md §3). Near the data, $\lambda = 0$ means *interpolating* through
# $K^{-1}$, and a wide bandwidth makes $K$ ill-conditioned — the package warns and says how many
# digits survive. The penalty $\lambda$ acts like a ridge and tames the interpolant. Below:
# $\|f(x)\|^2 = k^*(x,x)$ along a ray that starts in the data and leaves it.

# %%
ray_t = np.linspace(0, 4, 200)
ray = np.column_stack([0.5 + ray_t, 0.25 + 0.3 * ray_t])
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
for ax, lam in zip(axes, (0.0, 1e-2)):
    for bw in (0.2, 0.6, 2.0):
        kern = kt.kernels.get_kernel("rbf", bandwidth=bw)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", kt.IllConditionedWarning)
            sol = kt.solve("contrastive", kern(X), A, n, reg=lam)
        F = sol.transform(kern(ray, X))
        flag = " (ill-conditioned K)" if caught else ""
        ax.plot(ray_t, np.einsum("ij,ij->i", F, F), label=f"σ={bw}{flag}")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("distance travelled along the ray")
    ax.set_title(f"k*(x, x) along a ray, λ = {lam:g}")
    ax.legend(fontsize=8)
axes[0].set_ylabel("‖f(x)‖²")
plt.show()

# %% [markdown]
# ## Summary
#
# * On the training views the kernel is irrelevant for $\lambda = 0$ and $K \succ 0$ (reachability);
#   everything the kernel contributes happens **off** the training set, through $K^{-1}k_x$.
# * The penalty $\lambda\|W\|^2$ is the knob that lets the kernel shape the training representation,
#   and it selects one optimum among tied ones.
# * A rank-deficient kernel limits what is reachable: no perfect alignment, a positive loss floor.
# * Out of sample, an RBF representation fades to zero far from the data, and wide bandwidths with
#   $\lambda = 0$ interpolate through an ill-conditioned $K$.
#
# Notebook 5 shows what these facts mean for accuracy on real digits.
