"""The base layer: errors, events, atomic writes, the stage cache and the one way a stage is cached.

Nothing here imports another edgebuild layer, TensorFlow or pydantic.
"""
