"""Layers Keras lacks, registered for `.keras` saving under the `zoo>` package.

Importing `zoo` registers them, so `keras.saving.load_model(path)` needs no
`custom_objects`.
"""

from zoo.models.layers.augmentation import RandomJitter, RandomScaling, RandomShift
from zoo.models.layers.center_loss import CenterLoss, with_center_loss
from zoo.models.layers.position_embedding import PositionEmbedding
from zoo.models.layers.transformer_encoder import TransformerEncoder

__all__ = ["CenterLoss", "PositionEmbedding", "RandomJitter", "RandomScaling", "RandomShift",
           "TransformerEncoder", "with_center_loss"]
