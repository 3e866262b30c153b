"""The registered claims of docs/theory.md §2–§6; importing this package registers all of them.

- :mod:`.kernel_regime` — [KR] §2 reachability, §3 soft objectives O1, O2;
- :mod:`.declared` — [KR] §3 every declared soft objective, generically (one declaration per objective);
- :mod:`.adversarial` — [KR] §3 O1–O4 on ill-conditioned kernels, tiny/large λ, every graph kind;
- :mod:`.constrained` — [KR] §3 hard-constrained objectives O3, O4;
- :mod:`.paths` — [KR] §3 the engine's eigenpair paths against the dense one, at N in the hundreds;
- :mod:`.induced_kernel` — [KR] §3 representations, induced kernel, uniqueness; §4 alignment;
- :mod:`.idealized` — [IR] §5 idealized representations, probes, Cover, sample efficiency;
- :mod:`.ssl_objectives` — [IR] §5 CISSL, SimCLR baseline, DISSL;
- :mod:`.bridge` — §6 the bridge between the two papers.
"""

import importlib

#: Import order is registration order, which is report order: docs/theory.md's ([KR] §2–§4, [IR] §5, §6).
#: A tuple, not import statements, so that sorting imports cannot reorder the report.
MODULES = (
    "kernel_regime",
    "declared",
    "adversarial",
    "constrained",
    "paths",
    "induced_kernel",
    "idealized",
    "ssl_objectives",
    "bridge",
)

for _module in MODULES:
    importlib.import_module(f"{__name__}.{_module}")
