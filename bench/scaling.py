"""How a build grows: wall time and artifact size against the number of images, and artifact size
against the student's width; and, from the same builds, the digits recipe stage by stage.

    python bench/scaling.py [--copies 2 3] [--widths 0.5 0.75]     (about 4-5 minutes on 2 cores)

Every point is `edgebuild build RECIPE --profile android-flagship --json` in a fresh process with an
empty EDGEBUILD_CACHE of its own, timed from outside; a build that exits non-zero stops the benchmark.
- Images: the bundled digits recipe as it is (1,797 sklearn digits), then copies of it whose
  data.source is an .npz of the digits followed by COPIES - 1 more of each image, shifted by up to a
  pixel each way and noised (NOISE_STD), written with SEED.
- Width: copies that pin the student the bundled build chose (the ladder's largest on this profile)
  at other width multipliers, on the 1,797 digits; width 1.0 is the bundled build itself.
The copies' accuracy gates are opened (recipe_builds.OPEN_GATES; training is unchanged), so a
weaker point is still measured. Fits (numpy.polyfit, degree 1, with R²): seconds against images;
bytes and gzip bytes against parameters. The bundled build's report also gives the stage table:
accuracy, parameters, sparsity, size, gzip size and seconds after each stage.
Writes bench/results/scaling.json; bench/plots.py draws scaling.png from it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
from common import save
from recipe_builds import OPEN_GATES, PROFILE, RECIPE, recipe_copy, timed_build

SEED = 0
NOISE_STD = 0.05  # of the [0, 1] pixel range: visible, and the digits stay readable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[2, 3],
                        help="larger data sets, in copies of the 1,797 digits (the bundled recipe is always built)")
    parser.add_argument("--widths", type=float, nargs="+", default=[0.5, 0.75],
                        help="student width multipliers besides the bundled build's 1.0")
    args = parser.parse_args()
    if min(args.copies) < 2:
        parser.error("--copies: expected counts of 2 or more (1 is the bundled recipe, always built)")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="edgebuild-scaling-") as scratch:
        folder = Path(scratch)
        bundled = timed_build(folder, RECIPE, "out-bundled", folder / "cache-bundled")
        chosen = chosen_student(bundled["report"])
        by_images = [point(bundled, images=len(bundled_digits()[1]))]
        by_images += [data_point(folder, copies) for copies in sorted(set(args.copies))]
        by_width = [point(bundled, width=chosen["width"])]
        by_width += [width_point(folder, chosen, width) for width in sorted(set(args.widths) - {chosen["width"]})]
    path = save("scaling", {
        "recipe": RECIPE, "profile": PROFILE, "seed": SEED,
        "copies": f"each digit again, shifted by -1, 0 or 1 pixel each way, plus N(0, {NOISE_STD}) noise, "
                  "clipped to [0, 1]",
        "gates_opened_in_the_copies": OPEN_GATES,
        "chosen_student": chosen,
        "by_images": by_images, "by_width": sorted(by_width, key=lambda row: row["width"]),
        "fits": {
            "seconds_vs_images": linear_fit(by_images, "images", "seconds"),
            "size_bytes_vs_parameters": linear_fit(by_width, "parameters", "size_bytes"),
            "gzip_bytes_vs_parameters": linear_fit(by_width, "parameters", "gzip_bytes"),
        },
        "digits_stages": stage_rows(bundled["report"]),
        "load_average": {"before": load_before, "after": os.getloadavg()},
    })
    print(path)


def bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).astype(np.float32), digits.target  # counts 0..16 of a 32x32 bitmap


def digits_with_copies(copies: int) -> tuple[np.ndarray, np.ndarray]:
    """The digits, then `copies` - 1 more of each, shifted by -1, 0 or 1 pixel each way and noised."""
    images, labels = bundled_digits()
    random = np.random.default_rng(SEED)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    height, width = images.shape[1:]
    batches = [images]
    for _ in range(copies - 1):
        rows, columns = random.integers(0, 3, size=(2, len(images)))
        shifted = np.stack([padded[i, r:r + height, c:c + width] for i, (r, c) in enumerate(zip(rows, columns))])
        batches.append(np.clip(shifted + random.normal(0.0, NOISE_STD, shifted.shape), 0.0, 1.0).astype(np.float32))
    return np.concatenate(batches), np.tile(labels, copies)


def data_point(folder: Path, copies: int) -> dict:
    x, y = digits_with_copies(copies)
    np.savez(folder / f"digits-x{copies}.npz", x=x, y=y)
    recipe = recipe_copy(folder / f"digits-x{copies}.yaml", {"data.source": f"digits-x{copies}.npz"})
    return point(timed_build(folder, recipe.name, f"out-x{copies}", folder / f"cache-x{copies}"), images=len(y))


def width_point(folder: Path, chosen: dict, width: float) -> dict:
    recipe = recipe_copy(folder / f"digits-w{width}.yaml", {"student": {**chosen, "width": width}})
    return point(timed_build(folder, recipe.name, f"out-w{width}", folder / f"cache-w{width}"), width=width)


def chosen_student(report: dict) -> dict:
    """The student config the bundled build's ladder chose for this profile."""
    fit = report["fit"]
    return next(row["config"] for row in fit["candidates"] if row["student"] == fit["chosen"])


def point(built: dict, **coordinate: float) -> dict:
    report = built["report"]
    return {**coordinate, "seconds": built["seconds"], "exit_code": built["exit_code"],
            "size_bytes": report["artifact"]["size_bytes"], "gzip_bytes": report["artifact"]["gzip_bytes"],
            "parameters": report["artifact"]["parameters"], "accuracy": report["accuracy"]["artifact"],
            "passed": report["passed"], "stage_seconds": {row["name"]: row["seconds"] for row in report["stages"]},
            "load_average_1min": built["load_average_1min"]}


def linear_fit(points: list[dict], x_name: str, y_name: str) -> dict:
    x = np.array([p[x_name] for p in points], dtype=float)
    y = np.array([p[y_name] for p in points], dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    residual = float(np.sum((y - (slope * x + intercept)) ** 2))
    spread = float(np.sum((y - y.mean()) ** 2))
    return {"x": x_name, "y": y_name, "points": len(points), "slope": round(float(slope), 6),
            "intercept": round(float(intercept), 3), "r_squared": round(1 - residual / spread, 4) if spread else None}


def stage_rows(report: dict) -> list[dict]:
    """Each stage's numbers as the report gives them; the convert row gets the artifact's gzip size and
    parameters, which the report keeps under `artifact` (convert is the stage that writes it)."""
    artifact = report["artifact"]
    rows = []
    for stage in report["stages"]:
        row = {key: stage.get(key) for key in ("name", "seconds", "cached", "accuracy", "parameters", "sparsity",
                                               "size_bytes", "gzip_bytes")}
        if stage["name"] == "convert":
            row.update(gzip_bytes=artifact["gzip_bytes"], parameters=artifact["parameters"])
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
