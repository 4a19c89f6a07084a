"""Where the network runs, and keeping Lightning quiet while it does."""
import contextlib
import logging
import warnings

import torch


def auto_device(device: str | None = None) -> str:
    if device:
        return str(device)
    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def quiet_lightning():
    """Silence Lightning's banners/tips and the libraries' advisory warnings."""
    names = ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning",
             "lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            for n, level in saved.items():
                logging.getLogger(n).setLevel(level)
