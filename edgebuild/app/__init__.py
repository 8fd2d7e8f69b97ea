"""The app layer: the pipeline and the commands' APIs (build, convert, verify, plan, fit)."""
