"""Every registered kind, one idea per module. Add new modules to this list."""

from engine.kinds import (  # noqa: F401
    activation,
    conv_shapes,
    information,
    losses,
    norm,
    pool,
    softmax,
)
