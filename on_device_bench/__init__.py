"""Runs a .tflite in the interpreter and measures latency, memory and accuracy (standalone)."""
