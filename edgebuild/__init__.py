"""edgebuild: a trained model in, an app-ready TFLite artifact for a named device out, with proof it fits."""

__version__ = "0.1.0"
