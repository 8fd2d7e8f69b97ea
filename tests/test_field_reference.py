"""`edgebuild recipes fields` / `profiles fields`: every field documented, generated from the schemas."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from edgebuild.commands.catalog import profiles, recipes
from edgebuild.config.profile import load_profile, profile_names
from edgebuild.config.recipe import load_recipe, recipe_names
from tiny_recipe import TINY_RECIPE


def _fields(group) -> dict[str, dict]:
    result = CliRunner().invoke(group, ["fields", "--json"])
    assert result.exit_code == 0, result.output
    return {row["path"]: row for row in json.loads(result.output)}


def _paths(document, prefix: str = ""):
    """Every key path a YAML document uses, lists as `[]`."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield f"{prefix}{key}"
            yield from _paths(value, f"{prefix}{key}.")
    elif isinstance(document, list):
        for item in document:
            yield from _paths(item, prefix[:-1] + "[].")


@pytest.mark.parametrize("group", [recipes, profiles], ids=["recipes", "profiles"])
def test_every_field_has_a_type_and_a_description(group):
    fields = _fields(group)
    assert all(row["type"] and row["description"] for row in fields.values()), \
        [path for path, row in fields.items() if not row["description"]]


def test_every_key_the_bundled_recipes_and_profiles_use_is_in_the_reference():
    recipe_fields, profile_fields = _fields(recipes), _fields(profiles)
    documents = [(yaml.safe_load(load_recipe(name)[1].read_text()), recipe_fields) for name in recipe_names()]
    documents += [(yaml.safe_load(TINY_RECIPE), recipe_fields)]
    documents += [(yaml.safe_load(load_profile(name)[1].read_text()), profile_fields) for name in profile_names()]
    undocumented = {path for document, fields in documents for path in _paths(document) if path not in fields}
    assert not undocumented


def test_teacher_path_is_documented():
    row = _fields(recipes)["teacher.path"]
    assert ".keras" in row["description"] and "null" in row["type"]
