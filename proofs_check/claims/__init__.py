"""The registered claims of THEORY.md §2–§6; importing this package registers all of them.

- :mod:`.kernel_regime` — [KR] §2 reachability, §3 objectives O1–O4;
- :mod:`.induced_kernel` — [KR] §3 representations, induced kernel, uniqueness; §4 alignment;
- :mod:`.idealized` — [IR] §5 idealized representations;
- :mod:`.bridge` — §6 the bridge between the two papers.
"""

from . import kernel_regime  # noqa: F401  (registration order = THEORY.md order)
from . import induced_kernel  # noqa: F401,E402
from . import idealized  # noqa: F401,E402
from . import bridge  # noqa: F401,E402
