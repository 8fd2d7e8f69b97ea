"""Build targets: each profile with the precision and I/O dtype chosen for it before any work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgebuild.base.errors import BadInput
from edgebuild.config.profile import DeviceProfile, load_profile, profile_names
from edgebuild.config.recipe import Recipe, load_recipe


@dataclass(frozen=True)
class Target:
    """One profile to build for, with the precision and I/O dtype chosen for it before any training."""

    profile: DeviceProfile
    profile_path: Path
    precision: str
    io_dtype: str

    @property
    def name(self) -> str:
        return self.profile.name


def choose_target(recipe: Recipe, recipe_path: Path, profile: DeviceProfile, profile_path: Path) -> Target:
    """The recipe's most preferred precision the profile runs; refused (exit 2) before training."""
    target = _first_runnable(recipe.convert.precisions, profile, profile_path)
    if target is None:
        raise BadInput(f"{recipe_path}: convert.precisions {list(recipe.convert.precisions)}: profile {profile.name} "
                       f"runs only {list(profile.precisions)} with I/O {list(profile.io_dtypes)}")
    return target


def target_for_precision(profile_ref: str, precision: str | None) -> Target:
    """`precision`, or the profile's own first choice; one the profile does not run is refused (exit 2)."""
    profile, profile_path = load_profile(profile_ref)
    target = _first_runnable((precision,) if precision else profile.precisions, profile, profile_path)
    if target is None:
        raise BadInput(f"--precision {precision}: profile {profile.name} runs only {list(profile.precisions)} "
                       f"with I/O {list(profile.io_dtypes)}")
    return target


def load_targets(recipe_ref: str, profile_refs: Sequence[str]) -> tuple[Recipe, Path, tuple[Target, ...]]:
    """The recipe and every profile, validated before any work; `all` means every bundled profile."""
    recipe, recipe_path = load_recipe(recipe_ref)
    refs = [name for ref in profile_refs for name in (profile_names() if ref == "all" else [ref])]
    unique_refs = list(dict.fromkeys(refs))
    return recipe, recipe_path, tuple(choose_target(recipe, recipe_path, *load_profile(ref)) for ref in unique_refs)


def _first_runnable(precisions: Sequence[str], profile: DeviceProfile, profile_path: Path) -> Target | None:
    for precision in precisions:
        io_dtype = profile.io_dtype_for(precision) if precision in profile.precisions else None
        if io_dtype is not None:
            return Target(profile, profile_path, precision, io_dtype)
    return None
