"""The options every command that walks a recipe shares, said once: `build`, `plan`, `fit`."""

from __future__ import annotations

from pathlib import Path

import click

from edgebuild.toolchain.distribute import STRATEGIES

seed_option = click.option("--seed", type=int, default=None, help="Overrides the recipe's seed.")
cache_dir_option = click.option("--cache-dir", type=click.Path(path_type=Path), default=None, envvar="EDGEBUILD_CACHE",
                                help="Stage cache (default: the user cache folder; env EDGEBUILD_CACHE).")
strategy_option = click.option("--strategy", type=click.Choice(STRATEGIES), default=None,
                               help="tf.distribute strategy for the training stages (overrides the recipe's "
                                    "`strategy`).")
