"""Recipes (`inference/*.toml`) and zoo cards (`models/*.toml`): loading, validation, dispatch.

A recipe is a TOML file with a top-level `kind` naming a registered runner and the runner's own
tables. Each kind declares its schema when it registers (`@register_recipe(kind, schema=...)`), so
`nnft run <recipe>` refuses unknown keys and wrong types before any work starts; `--set` overrides
values and `--small` applies the kind's notebook-size overrides. Reports are written atomically.
"""

from __future__ import annotations

import dataclasses
import tomllib
import warnings
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ._atomic import report_folder
from ._errors import NNFTError
from ._schema import Int, Str, Table
from ._x64 import float64

_ROOT = Path(__file__).resolve().parent.parent
#: keys every recipe may have
SEED = Int(lo=0, hi=2**32 - 1)
COMMON = {"kind": Str(), "description": Str(), "seed": SEED}


@dataclasses.dataclass(frozen=True)
class RecipeKind:
    """A registered recipe kind: its runner `fn(spec, out, progress) -> dict`, schema and small-size overrides."""

    kind: str
    run: Callable
    schema: Table
    small: dict
    summary: str


_KINDS: dict[str, RecipeKind] = {}


def register_recipe(kind: str, *, schema: Table | None = None, small: dict | None = None, summary: str = ""):
    """Decorator: register `fn(spec: dict, out: Path, progress: bool) -> dict` for recipes of `kind`.

    `schema` is the `Table` of the recipe's keys (`kind`, `description` and `seed` are added);
    `small` maps dotted keys (`*` for every entry of a list or table) to the values `--small` sets.
    A kind registered without a schema is deprecated: its recipes are passed on unchecked."""

    def deco(fn):
        if schema is None:
            warnings.warn(f"recipe kind {kind!r} registered without a schema", DeprecationWarning, stacklevel=2)
        full = (schema or Table({}, open=True)).extend(**COMMON)
        _KINDS[kind] = RecipeKind(kind, fn, full, dict(small or {}), summary or (fn.__doc__ or "").split("\n")[0])
        return fn

    return deco


def recipe_kinds() -> dict[str, RecipeKind]:
    """Every registered recipe kind, by name."""
    # each runner module registers its kinds when imported
    from .action.recipes import run_running_coupling  # noqa: F401
    from .deform.recipes import run_double_well, run_phi4  # noqa: F401
    from .dynamics.recipes import run_training_dynamics  # noqa: F401
    from .gp.recipes import run_gp_fit, run_nn_vs_gp  # noqa: F401
    from .symmetry.recipes import run_symmetry  # noqa: F401
    from .width_scaling.recipe import run as run_width_scaling  # noqa: F401

    return dict(_KINDS)


def runners() -> dict[str, Callable]:
    """Every registered runner, by kind."""
    return {k: v.run for k, v in recipe_kinds().items()}


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
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise NNFTError(f"{what}: {path.name} is not a text file (not UTF-8); a recipe is TOML text") from None
    except tomllib.TOMLDecodeError as e:
        raise NNFTError(f"{what}: {path.name} is not valid TOML: {e}") from None
    except OSError as e:
        raise NNFTError(f"{what}: cannot read {str(path)!r}: {e.strerror or e}") from None


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


def parse_override(text: str) -> tuple[str, object]:
    """`section.key=value` -> (dotted key, value): the value is parsed as TOML, else taken as a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise NNFTError(f"--set: expected section.key=value, got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def _set(node, parts: list[str], value, where: str) -> None:
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else None
        if items is None or not rest:
            raise NNFTError(f"--set {where}: '*' stands for every entry of a list or table, followed by a key")
        for item in items:
            _set(item, rest, value, where)
        return
    if isinstance(node, list):
        if not head.isdigit() or int(head) >= len(node):
            raise NNFTError(f"--set {where}: {head!r} is not an index of a list of {len(node)}")
        head = int(head)
    elif not isinstance(node, dict):
        raise NNFTError(f"--set {where}: cannot set a key inside a value")
    if not rest:
        node[head] = value
        return
    if isinstance(node, dict) and head not in node:
        node[head] = {}
    _set(node[head], rest, value, where)


def apply_overrides(spec: dict, overrides) -> dict:
    """`spec` with each `(dotted key, value)` set (`*` for every entry of a list or table)."""
    for key, value in overrides:
        _set(spec, key.split("."), value, key)
    return spec


def load_recipe(path, overrides=(), small: bool = False) -> dict:
    """Read a recipe, apply `--small` then `--set` overrides, and validate it against its kind's schema."""
    from ._recipe_legacy import modernise

    name = Path(str(path)).name
    spec = load_toml(resolve_recipe(path), "recipe")
    kind = spec.get("kind")
    table = recipe_kinds()
    if not isinstance(kind, str) or kind not in table:
        raise NNFTError(f"recipe {name}: kind must be one of {sorted(table)}, got {kind!r}")
    spec = modernise(spec, name)
    if small:
        spec = apply_overrides(spec, table[kind].small.items())
    spec = apply_overrides(spec, [parse_override(o) if isinstance(o, str) else o for o in overrides])
    try:
        return table[kind].schema.check(spec, "")
    except NNFTError as e:
        raise NNFTError(f"recipe {name}: {e}") from None


@float64
def run_recipe(
    path,
    out,
    progress: bool = True,
    *,
    force: bool = False,
    overrides=(),
    small: bool = False,
    kind: str | None = None,
    resume: bool = False,
) -> dict:
    """Load, validate and execute a recipe, writing its report atomically into `out`.

    An existing report in `out` is replaced only with `force=True`; nothing is written if the run fails.
    `kind`: refuse a recipe of any other kind. Every streamed ensemble stage is checkpointed (atomic
    block files in `.<out>.stages/` beside `out`, removed when the report is written); `resume=True`
    continues a killed run from its checkpoint (finished stages are loaded, not recomputed; a checkpoint
    of another recipe, seed, version or set of points is refused), without it a stale one is discarded."""
    from ._stages import stage_folder

    spec = load_recipe(path, overrides, small)
    if kind is not None and spec["kind"] != kind:
        raise NNFTError(f"recipe {Path(str(path)).name}: kind is {spec['kind']!r}, this command runs {kind!r} recipes")
    info = {"recipe": str(path), "kind": spec["kind"], "small": small, "overrides": list(overrides)}
    with stage_folder(out, spec, resume), report_folder(out, force, info) as tmp:
        return recipe_kinds()[spec["kind"]].run(spec, tmp, progress)


def list_recipes() -> list[tuple[str, str, str]]:
    """(name, kind, one-line description) of every recipe in the recipe folder."""
    rows = []
    for p in sorted(Path(str(recipes_folder())).glob("*.toml")):
        spec = load_toml(p, "recipe")
        kind = recipe_kinds().get(spec.get("kind"))
        desc = spec.get("description") or (kind.summary if kind else "")
        rows.append((p.stem, str(spec.get("kind")), desc))
    return rows
