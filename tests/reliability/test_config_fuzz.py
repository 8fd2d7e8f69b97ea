"""Seeded random mutations of every bundled recipe and profile (and the tiny test recipe) through
the real loaders: each is accepted or refused with one line (BadInput, exit 2) — never another
exception. A sample of the refused ones goes through the real `edgebuild plan`, which must say the
same line with exit 2 and no traceback."""

from __future__ import annotations

import traceback
from importlib import resources
from pathlib import Path

import pytest
import yaml

from cli_runner import assert_one_line_error, run_edgebuild
from config_mutations import mutants
from edgebuild.base.errors import BadInput
from edgebuild.config.profile import profile_names
from edgebuild.config.targets import load_targets
from tiny_recipe import TINY_RECIPE

MUTANTS_PER_SEED_FILE = 32  # 9 files: 288 mutants, a few seconds
CLI_SAMPLE = 4
PROFILE = "android-flagship"


def _seed_files() -> dict[str, tuple[dict, str]]:
    """name → (parsed document, "recipe" or "profile")."""
    bundled = {name: (resources.files("edgebuild.device_profiles") / f"{name}.yaml", "profile")
               for name in profile_names()}
    bundled["digits"] = (resources.files("edgebuild.recipes") / "digits.yaml", "recipe")
    seeds = {name: (yaml.safe_load(path.read_text()), kind) for name, (path, kind) in bundled.items()}
    seeds["tiny"] = (yaml.safe_load(TINY_RECIPE), "recipe")
    return seeds


def _load(path: Path, kind: str) -> None:
    """The recipe (with a bundled profile) or the profile (with the digits recipe), as `build` loads them."""
    load_targets(str(path), [PROFILE]) if kind == "recipe" else load_targets("digits", [str(path)])


def _outcome(path: Path, kind: str) -> str | None:
    """None when accepted, the one-line error when refused; anything else fails the test."""
    try:
        _load(path, kind)
    except BadInput as error:
        assert "\n" not in str(error), f"{path.name}: a refusal of more than one line: {error}"
        return str(error)
    return None


def test_mutated_configs_are_accepted_or_refused_in_one_line(tmp_path):
    crashes, refused, accepted = [], [], 0
    for number, (name, (document, kind)) in enumerate(sorted(_seed_files().items())):
        for index, (what, text) in enumerate(mutants(document, seed=2100 + number, count=MUTANTS_PER_SEED_FILE)):
            path = tmp_path / f"{name}-{index}.yaml"
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
            try:
                error = _outcome(path, kind)
            except Exception:  # the finding: a crash instead of a refusal
                crashes.append(f"{path.name} ({what}): {traceback.format_exc(limit=-2)}")
                continue
            if error is None:
                accepted += 1
            else:
                refused.append((path, kind, error))
    assert crashes == [], "\n".join(crashes[:5])
    assert accepted > 0 and len(refused) > accepted, (accepted, len(refused))  # the mutations do reach validation
    _refused_the_same_way_by_the_cli(tmp_path, refused[::len(refused) // CLI_SAMPLE][:CLI_SAMPLE])


def _refused_the_same_way_by_the_cli(root: Path, sample: list[tuple[Path, str, str]]) -> None:
    for path, kind, error in sample:
        recipe, profile = (str(path), PROFILE) if kind == "recipe" else ("digits", str(path))
        result = run_edgebuild("plan", recipe, "--profile", profile, cwd=root, timeout=120)
        assert_one_line_error(result, 2)
        assert result.stderr.strip() == f"error: {error}", path.name


@pytest.mark.parametrize("text, fragment", [
    ("name: x\nseed: \x00\n", "unacceptable character #x0000"),
    ("? {a: 1}\n: 2\n", ":1: invalid YAML: a key must be a plain name"),
], ids=["nul_character", "mapping_as_key"])
def test_what_the_fuzzer_found_is_refused_in_one_line(tmp_path, text, fragment):
    (tmp_path / "recipe.yaml").write_text(text)
    result = run_edgebuild("plan", "recipe.yaml", "--profile", PROFILE, cwd=tmp_path, timeout=120)
    assert_one_line_error(result, 2, "recipe.yaml", fragment)
