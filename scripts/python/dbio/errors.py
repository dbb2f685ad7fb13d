"""What a run refuses: one line, no traceback, and an exit code as the Rust
binaries'. The cli prints it; the other modules only raise it."""


class Refused(ValueError):
    """A setting, a file or a server the Rust binaries refuse too, with
    their message and exit code (2: a value clap does not parse; 1: the
    rest)."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code
