"""The errors edgebuild raises; the CLI maps each to one line and an exit code."""


class EdgebuildError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1


class BadInput(EdgebuildError):
    """A recipe, profile, data source or model that cannot be used as given."""

    exit_code = 2


class GateFailed(EdgebuildError):
    """A stage or check broke a limit the recipe or profile sets."""

    exit_code = 1


class Interrupted(EdgebuildError):
    """The user pressed Ctrl-C; partial work was discarded."""

    exit_code = 130
