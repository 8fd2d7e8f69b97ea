"""Training stages: data, teacher, student, distillation, pruning, QAT; each one module."""
