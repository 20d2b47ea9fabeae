"""kerasrnn: recurrent text models in Keras 3, from recipe to phone."""

__version__ = "0.1.0"
