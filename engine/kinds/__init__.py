"""Every registered kind, one idea per module. Add new modules to this list."""

from engine.kinds import (  # noqa: F401
    conv_shapes,
    pool,
    softmax,
)
