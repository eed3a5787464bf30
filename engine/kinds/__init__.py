"""Every registered kind, one idea per module. Add new modules to this list."""

from engine.kinds import (  # noqa: F401
    activation,
    attention,
    backprop,
    conv_shapes,
    information,
    init,
    losses,
    norm,
    perceptron,
    pool,
    rnn,
    softmax,
)
