"""The library's error type."""


class NNFTError(ValueError):
    """Bad input to nnft_ppl: the message names the offending argument."""
