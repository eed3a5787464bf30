"""Every registered kind, one idea per module. Add new modules to this list."""

from engine.kinds import (  # noqa: F401
    activation,
    attention,
    backprop,
    conv,
    conv_shapes,
    grad_clip,
    information,
    init,
    iou,
    losses,
    norm,
    normalization,
    perceptron,
    pool,
    pool_values,
    receptive_field,
    regularization,
    rnn,
    softmax,
)
