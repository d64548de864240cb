"""Recipes (`inference/*.toml`) and zoo cards (`models/*.toml`): loading, validation, dispatch.

A recipe is a TOML file with a top-level `kind` naming a registered runner and the
runner's own tables. `nnft run <recipe>` loads it, validates it, and calls the runner
with the parsed spec and an output folder. Runners register with `@register_recipe`.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ._errors import NNFTError

_ROOT = Path(__file__).resolve().parent.parent
#: runner modules imported on first use (each registers its kinds)
RUNNER_MODULES = [
    "nnft_ppl.report.width_scaling",
    "nnft_ppl.gp.recipes",
    "nnft_ppl.deform.recipes",
    "nnft_ppl.symmetry.recipes",
]
_RUNNERS: dict[str, Callable] = {}


def register_recipe(kind: str):
    """Decorator: register `fn(spec: dict, out: Path, progress: bool) -> dict` for recipes of `kind`."""

    def deco(fn):
        _RUNNERS[kind] = fn
        return fn

    return deco


def runners() -> dict[str, Callable]:
    for mod in RUNNER_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if not (e.name or "").startswith(mod.rsplit(".", 1)[0]):
                raise
    return dict(_RUNNERS)


def _folder(repo_name: str, package: str) -> Path | resources.abc.Traversable:
    local = _ROOT / repo_name
    if local.is_dir():
        return local
    return resources.files(package)


def cards_folder():
    """The zoo catalogue: `models/` in a checkout, or the installed copy."""
    return _folder("models", "nnft_ppl._cards")


def recipes_folder():
    """The recipe folder: `inference/` in a checkout, or the installed copy."""
    return _folder("inference", "nnft_ppl._recipes")


def load_toml(path, what: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise NNFTError(f"{what}: no such file {str(path)!r}")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise NNFTError(f"{what}: {path.name} is not valid TOML: {e}") from e


# ---- zoo cards -----------------------------------------------------------------------------
CARD_KEYS = {"name", "architecture", "summary", "parameters", "distribution", "analytic", "source"}


def load_card(path) -> dict:
    """Read and validate one zoo card."""
    from .architectures import REGISTRY, make_architecture

    card = load_toml(path, "card")
    missing = CARD_KEYS - set(card)
    if missing:
        raise NNFTError(f"card {Path(path).name}: missing key(s) {sorted(missing)}")
    if card["architecture"] not in REGISTRY:
        raise NNFTError(f"card {Path(path).name}: unknown architecture {card['architecture']!r}")
    if not isinstance(card["parameters"], dict):
        raise NNFTError(f"card {Path(path).name}: [parameters] must be a table")
    card["model"] = make_architecture(card["architecture"], **card["parameters"])
    return card


def zoo() -> dict[str, dict]:
    """Every card in the catalogue, by name."""
    out = {}
    for p in sorted(cards_folder().iterdir(), key=lambda q: q.name):
        if p.name.endswith(".toml"):
            card = load_card(p)
            out[card["name"]] = card
    return out


# ---- recipes -------------------------------------------------------------------------------
DEFAULT_RECIPE = "width_scaling.toml"


def resolve_recipe(name) -> Path:
    """A recipe path, or a bare name looked up in the recipe folder."""
    p = Path(name)
    if p.is_file():
        return p
    for cand in (p.name, p.name + ".toml"):
        q = recipes_folder() / cand
        if q.is_file():
            return Path(str(q))
    raise NNFTError(f"recipe: no recipe {str(name)!r} (looked in the working folder and {recipes_folder()})")


def load_recipe(path) -> dict:
    spec = load_toml(resolve_recipe(path), "recipe")
    kind = spec.get("kind")
    table = runners()
    if kind not in table:
        raise NNFTError(f"recipe {Path(path).name}: kind must be one of {sorted(table)}, got {kind!r}")
    return spec


def run_recipe(path, out, progress: bool = True) -> dict:
    """Load, validate and execute a recipe, writing its report into `out`."""
    spec = load_recipe(path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return runners()[spec["kind"]](spec, out, progress)
