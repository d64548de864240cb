"""The library's two error types: bad input, and a computation that failed on good input.

`NNFTError` (a `ValueError`) means the caller passed something wrong; its message names
the offending argument, and fixing the call fixes it. `NNFTNumericalError` (an
`ArithmeticError`, deliberately *not* an `NNFTError`) means valid input met a numerical
failure (a non-finite result, a factorisation that failed, an optimiser that took no
step): `except NNFTError` does not swallow it, and its message says what failed and
what to try.
"""


class NNFTError(ValueError):
    """Bad input to nnft_ppl: the message names the offending argument."""


class NNFTNumericalError(ArithmeticError):
    """A numerical failure on valid input (non-finite result, failed factorisation, no progress)."""
