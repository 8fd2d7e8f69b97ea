"""Turn a trained model into a TFLite (LiteRT) flatbuffer and read one back, without TensorFlow."""
