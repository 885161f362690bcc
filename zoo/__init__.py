"""Prebuilt Keras 3 models: ``zoo.list_models()`` and ``zoo.build(name, ...)``."""
