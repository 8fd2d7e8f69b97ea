"""The smallest real recipe: every stage runs, in seconds, on 8x8 digits."""

TINY_RECIPE = """\
name: tiny
seed: 3
min_stage_accuracy: 0.3
data:
  source: sklearn:digits
  input_size: [8, 8]
teacher:
  architecture: {filters: [16], dense_units: 32, dropout: 0.1}
  training: {epochs: 4, batch_size: 64, learning_rate: 0.005}
student:
  architecture: mobilenet_v1
  stem_channels: 8
  blocks: [{channels: 16, stride: 2}, {channels: 16, stride: 1}]
distill:
  temperature: 4.0
  alpha: 0.1
  training: {epochs: 8, batch_size: 64, learning_rate: 0.01}
  max_accuracy_drop: 0.5
prune:
  target_sparsity: 0.5
  training: {epochs: 3, batch_size: 64, learning_rate: 0.002}
  max_accuracy_drop: 0.2
qat:
  training: {epochs: 1, batch_size: 64, learning_rate: 0.001}
  max_accuracy_drop: 0.2
convert:
  representative_samples: 50
verify:
  min_accuracy: 0.5
  max_drop_from_float: 0.1
"""
