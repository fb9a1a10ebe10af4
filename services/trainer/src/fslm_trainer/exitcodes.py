"""Process exit codes of fslm-trainer, and the error type that carries one.

The controller's podFailurePolicy relies on these: 2 means the input is wrong and a retry cannot
help; 1 and 3 are failures that may pass on a retry.
"""

OK = 0
FAILED = 1  # unexpected failure (a bug, or the machine); may pass on a retry
BAD_INPUT = 2  # the inputs are wrong (not a causal LM, missing files, checksum mismatch): never retry
UNAVAILABLE = 3  # a dependency was unreachable (package registry download): retry with backoff


class TrainerError(Exception):
    """A failure with a known exit code and a message meant for a person."""

    def __init__(self, message: str, exit_code: int = FAILED):
        super().__init__(message)
        self.exit_code = exit_code


class BadInput(TrainerError):
    def __init__(self, message: str):
        super().__init__(message, BAD_INPUT)


class Unavailable(TrainerError):
    def __init__(self, message: str):
        super().__init__(message, UNAVAILABLE)
