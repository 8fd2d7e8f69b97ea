"""The config layer: YAML, device profiles, recipes and the schemas registries validate against.

Loading and validating a file never imports TensorFlow.
"""
