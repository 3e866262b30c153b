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
# # 1. The spectral contrastive loss: from a SymPy derivation to an induced kernel
#
# This walkthrough follows one objective all the way through the package:
#
# 1. the loss is written **once**, symbolically;
# 2. SymPy **derives** its closed form by completing the square — target $T$, constant, minimum;
# 3. a printer **generates** the numeric code that builds $T$;
# 4. the generic solver turns $T$ into the optimum, which we check against an independent optimiser;
# 5. the optimum is extended out of sample as the **induced kernel** $k^*$, whose block structure we look at.
#
# Setting (docs/theory.md §1): $N$ training views $x_1..x_N$, view $i$ from base sample $g_i$; a kernel
# with Gram matrix $K$; the embedding $f(x) = C^Tk_x \in \mathbb R^d$, so the training embeddings are
# $Z = KC$; the relation matrix $A_{ij} = [g_i = g_j]$. The spectral contrastive loss (O1) is
# $\mathcal L(C) = \|ZZ^T - A\|_F^2 + \lambda\,\mathrm{tr}(C^TKC)$.

# %%
import inspect
import warnings

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display
from scipy.optimize import minimize

import kssl_theory as kt
import kssl_theory._generated.targets as generated
from kssl_theory.experiments import datasets
from kssl_theory.kernel_regime.kernel_factor import KernelFactor
from kssl_theory.symbolic import derive

plt.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})

# %% [markdown]
# ## 1–2. Derivation: completing the square in SymPy
#
# `derive.complete_square` expands the loss into a sum of traces, rewrites it with named lemmas
# ($Z = KC$, $C^TKC = Z^TK^+Z$ on the reachable set, $P = KK^+$ idempotent, …) until only the Gram
# matrix $G = ZZ^T$ is left, and completes the square. SymPy's matrix calculus is *not* used for
# this (it silently returns wrong derivatives for sums of traces, sympy issues 23492 and 30527);
# every lemma is proven separately on explicit matrices.

# %%
res = derive.complete_square("contrastive")
tex = derive.latex_formulas()["contrastive"]
print("lemmas used:", ", ".join(res.lemmas))
for name in ("loss", "target", "constant", "minimum", "gradient"):
    print(name)
    display(Math(tex[name]))

# %% [markdown]
# So $\mathcal L = \|G - T\|_F^2 + \text{const}$ with $T = PAP - \tfrac{\lambda}{2}K^+$: minimising over
# reachable Gram matrices (PSD, rank $\le d$, range in range$(K)$) is a best low-rank approximation
# problem, solved by the positive part of the top-$d$ eigenpairs of $T$, $G^* = [T]_{+,d}$ (Eckart–Young).
#
# The gradient above comes from the trace normal form, not from `sympy.diff`. We turn it into a
# NumPy function with `lambdify` and check it against central finite differences of the loss.

# %%
grad_syms = sorted(res.gradient.free_symbols, key=str)  # A, C, K, lambda
grad_fn = sp.lambdify(grad_syms, res.gradient, "numpy")
rng = np.random.default_rng(0)
Xs = rng.normal(size=(6, 2))
Ks = kt.kernels.rbf(Xs, bandwidth=1.0)
As = kt.graphs.adjacency([0, 0, 1, 1, 2, 2])
Cs = rng.normal(size=(6, 2))
lam = 0.3


def loss_of(C):
    return float(kt.loss("contrastive", Ks @ C, As, K=Ks, coef=C, reg=lam))


fd = np.zeros_like(Cs)
h = 1e-6
for idx in np.ndindex(*Cs.shape):
    E = np.zeros_like(Cs)
    E[idx] = h
    fd[idx] = (loss_of(Cs + E) - loss_of(Cs - E)) / (2 * h)
symbolic_grad = grad_fn(As, Cs, Ks, lam)
print(
    f"max |symbolic − finite differences| = {np.max(np.abs(symbolic_grad - fd)):.1e} "
    f"(gradient entries are O({np.max(np.abs(fd)):.0f}))"
)

# %% [markdown]
# ## 3. Generated code
#
# The target expression is printed into `kssl_theory/_generated/targets.py` by an array-API printer
# (`python -m kssl_theory.symbolic.codegen`; a test checks the file is fresh). Note what it does *not*
# do: no inverse is formed. $K^+$ and $P$ are applied through a `KernelFactor` (Cholesky when
# $K \succ 0$, an eigendecomposition otherwise).

# %%
print(inspect.getsource(generated.contrastive_target))
T_generated = generated.contrastive_target(As, KernelFactor(Ks), lam)
T_by_hand = As - lam / 2 * np.linalg.inv(Ks)
print(f"generated target vs A − (λ/2)K⁻¹ by hand: max difference {np.max(np.abs(T_generated - T_by_hand)):.1e}")

# %% [markdown]
# ## 4. The optimum on a toy set, and an independent check
#
# Toy data: 20 points on two concentric circles, 3 jittered views each ($N = 60$), an RBF kernel.
# We solve at $d = 8 < n$ with $\lambda = 0.05$ (unique optimum) and confirm that L-BFGS on the
# coefficients $C$, started from random points, never finds a lower loss than the closed form.

# %%
X0, y0 = datasets.make_circles(20, noise=0.03, factor=0.45, seed=1)
views = datasets.make_views(X0, 3, datasets.PointAugmentation(0.04), labels=y0, seed=2)
X, groups = views.X, views.groups
n, N = views.n_groups, X.shape[0]
kern = kt.kernels.get_kernel("rbf", bandwidth=0.35)
K = kern(X)
A = kt.graphs.adjacency(groups)
d, lam = 8, 0.05
sol = kt.solve("contrastive", K, A, d, reg=lam)
print(f"closed form: loss = {float(sol.loss):.6f}, unique = {sol.is_unique}, gap = {sol.gap:.2e}")
print(
    f"loss recomputed from the definition at the optimum: "
    f"{float(kt.loss('contrastive', sol.embedding, A, K=K, coef=sol.coef, reg=lam)):.6f}"
)


def f_and_grad(c):
    C = c.reshape(N, d)
    Z = K @ C
    R = Z @ Z.T - A
    value = np.sum(R * R) + lam * np.sum(C * (K @ C))
    return value, (4 * K @ R @ Z + 2 * lam * K @ C).ravel()


best = []
for seed in range(4):
    c0 = np.random.default_rng(seed).normal(scale=0.3, size=N * d)
    best.append(minimize(f_and_grad, c0, jac=True, method="L-BFGS-B", options={"maxiter": 3000}).fun)
print("L-BFGS from 4 random starts:", ", ".join(f"{b:.6f}" for b in best))
print("closed form never beaten:", min(best) >= float(sol.loss) - 1e-8 * max(1.0, float(sol.loss)))

# %% [markdown]
# ## 5. The induced kernel and its block structure
#
# $k^*(x,x') = k_x^TC^*C^{*T}k_{x'}$. On the training views with $\lambda = 0$ and $d \ge n$ it is exactly
# $A$: views of one sample share one unit vector, different samples are orthogonal (docs/theory.md §4).
# With the penalty and $d < n$ the blocks are softened and neighbouring samples on a circle share
# directions. On **fresh** views (new jitter of the same base points) the penalised optimum keeps
# its structure almost unchanged, while the $\lambda = 0$ optimum produces a few huge entries: its
# out-of-sample map $K^{-1}k_x$ is a ridgeless interpolation through an ill-conditioned $K$ (three
# nearly coincident views per sample). Notebook 3 looks at this closely.

# %%
print(f"condition number of K: {np.linalg.cond(K):.1e}")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", kt.IllConditionedWarning)
    sol_full = kt.solve("contrastive", K, A, n)  # λ = 0, d = n: G* = A
order = np.argsort(np.repeat(y0, 3) * 1000 + groups, kind="stable")
fresh = datasets.make_views(X0, 3, datasets.PointAugmentation(0.04), labels=y0, seed=99)
Kf = kern(fresh.X, X)
panels = {
    "λ=0, d=n: training views (= A)": sol_full.gram[np.ix_(order, order)],
    "λ=0, d=n: fresh views": sol_full.induced_kernel(Kf)[np.ix_(order, order)],
    f"λ={lam}, d={d}: training views": sol.gram[np.ix_(order, order)],
    f"λ={lam}, d={d}: fresh views": sol.induced_kernel(Kf)[np.ix_(order, order)],
}
fig, axes = plt.subplots(1, 4, figsize=(17, 4), gridspec_kw={"wspace": 0.4})
for ax, (title, M) in zip(axes, panels.items()):
    lim = np.max(np.abs(M))
    im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("view (sorted by circle, then sample)")
    ax.grid(False)
    fig.colorbar(im, ax=ax, fraction=0.046)
axes[0].set_ylabel("view")
plt.show()

# %% [markdown]
# Finally, the spectrum of the target tells the whole story of the optimum: at $\lambda = 0$, $T = A$
# has eigenvalue $m = 3$ with multiplicity $n = 20$ (so $d < 20$ cuts a tie: not unique), and the
# penalty spreads those eigenvalues according to how smooth each group combination is under the
# kernel, which is what lets $d = 8$ pick a unique optimum.

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for reg in (0.0, 0.01, 0.05, 0.2):
    w = kt.solve("contrastive", K, A, 1, reg=reg).eigenvalues
    ax.plot(np.arange(1, 41), np.asarray(w)[:40], marker=".", label=f"λ = {reg:g}")
ax.axvline(d + 0.5, color="gray", ls=":", label=f"cut at d = {d}")
ax.axhline(0, color="k", lw=0.8)
ax.set_ylim(-4, 3.5)
ax.set_xlabel("eigenvalue index i (descending; the tail continues far below)")
ax.set_ylabel("λ_i(T)")
ax.set_title("O1 target spectrum on the toy set")
ax.legend()
plt.show()
