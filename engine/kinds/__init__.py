"""Every registered kind, one idea per module. Add new modules to this list."""

from engine.kinds import (  # noqa: F401
    activation,
    attention,
    backprop,
    conv,
    conv_shapes,
    information,
    init,
    iou,
    losses,
    norm,
    perceptron,
    pool,
    pool_values,
    receptive_field,
    rnn,
    softmax,
)
