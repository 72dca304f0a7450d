"""The one exception a user sees for bad input.

Every validation failure, from a TOML key to a CLI flag, raises
:class:`ConfigError` naming the offending key and the reason; the CLI turns
it into a single line on stderr and exit status 2, before any work starts.
"""


class ConfigError(ValueError):
    """Invalid input: ``key`` is the dotted path of the setting, ``reason`` why it is wrong."""

    def __init__(self, key: str, reason: str):
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")
