"""Every registered kind, one idea per module. Add new modules to this list."""

from engine.kinds import (  # noqa: F401
    activation,
    attention,
    conv_shapes,
    information,
    init,
    losses,
    norm,
    pool,
    rnn,
    softmax,
)
