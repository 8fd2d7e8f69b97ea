"""`edgebuild profiles list|show` and `edgebuild recipes list|show`: what is bundled, as copyable YAML."""

from __future__ import annotations

import click


@click.group("profiles")
def profiles() -> None:
    """Bundled device profiles."""


@profiles.command("list")
def list_profiles() -> None:
    """One profile per line: name, then what it runs and its budgets."""
    from edgebuild.config.profile import load_profile, profile_names

    for name in profile_names():
        profile, _ = load_profile(name)
        budgets = profile.budgets
        click.echo(f"{name}\t{'/'.join(profile.precisions)}\tsize≤{budgets.size_bytes} B\t"
                   f"gzip≤{budgets.gzip_bytes} B\tmemory≤{profile.memory_budget_bytes} B\t"
                   f"p50≤{profile.latency.p50_ms} ms\t{profile.description}")


@profiles.command("show")
@click.argument("name")
def show_profile(name: str) -> None:
    """Print a profile's YAML, to copy, edit and pass as a path."""
    from edgebuild.config.profile import load_profile

    _, path = load_profile(name)
    click.echo(path.read_text(), nl=False)


@click.group("recipes")
def recipes() -> None:
    """Bundled recipes."""


@recipes.command("list")
def list_recipes() -> None:
    """One recipe per line: name, data source and student."""
    from edgebuild.config.recipe import load_recipe, recipe_names

    for name in recipe_names():
        recipe, _ = load_recipe(name)
        student = recipe.student
        architectures = sorted({c.architecture for c in student.candidates}) if hasattr(student, "candidates") \
            else [student.architecture]
        click.echo(f"{name}\t{recipe.data.source}\t{'/'.join(architectures)}")


@recipes.command("show")
@click.argument("name")
def show_recipe(name: str) -> None:
    """Print a recipe's YAML, to copy, edit and pass as a path."""
    from edgebuild.config.recipe import load_recipe

    _, path = load_recipe(name)
    click.echo(path.read_text(), nl=False)


@profiles.command("fields")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as a JSON list.")
def profile_fields(as_json: bool) -> None:
    """Every field a profile YAML may hold: type, default and what it means (from the schema)."""
    from edgebuild.config.profile import DeviceProfile

    _print_fields(DeviceProfile, as_json)


@recipes.command("fields")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as a JSON list.")
def recipe_fields(as_json: bool) -> None:
    """Every field a recipe YAML may hold: type, default and what it means (from the schema)."""
    from edgebuild.config.recipe import Recipe

    _print_fields(Recipe, as_json)


def _print_fields(model, as_json: bool) -> None:
    import json
    from dataclasses import asdict

    from edgebuild.config.fields import field_rows

    rows = field_rows(model)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    for row in rows:
        default = f" = {row.default}" if row.default else "  (required)" if "null" not in row.type else ""
        click.echo(f"{row.path}: {row.type}{default}\n    {row.description}")
