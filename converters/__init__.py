"""The conversion stage: Keras to .tflite, then reading and annotating .tflite files (those two without TensorFlow)."""
