"""Recipes: the pipeline a build runs, as validated data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (Field, PositiveFloat, PositiveInt, ValidatorFunctionWrapHandler, WrapValidator,
                      field_validator, model_validator)

from edgebuild.config import models
from edgebuild.config.models import NAME_PATTERN, StrictModel
from edgebuild.config.precisions import Precision
from edgebuild.config.students import (BnMomentum, StudentArchitecture, StudentConfig, candidate_config,
                                       student_config, without_name)
from edgebuild.config.yamlfile import sha256_without_entry

RECIPES_PACKAGE = "edgebuild.recipes"
SEARCH_ENTRY = ("convert", "search")
AUTO = "auto"  # student.choose: let `edgebuild fit` pick the largest candidate that fits the profile


def _candidate(value: Any, handler: ValidatorFunctionWrapHandler) -> StudentConfig:
    return candidate_config(value) if isinstance(value, dict) else handler(value)


class Training(StrictModel):
    epochs: PositiveInt
    """Passes over the training split."""
    batch_size: PositiveInt = 32
    """Images per gradient step."""
    learning_rate: PositiveFloat = 1e-3
    """Adam's starting rate; it decays along a cosine to zero over the stage."""


class DataConfig(StrictModel):
    source: str = Field(min_length=1)
    """`sklearn:digits`, a folder of class folders of PNG/JPEG images, or a .npz with `x` (images) and `y` (class
    ids); a path is relative to the recipe."""
    input_size: tuple[PositiveInt, PositiveInt]
    """[height, width] every image is brought to (at most 4x upscaling)."""
    resize: Literal["stretch", "crop", "pad"] = "stretch"
    """How images of another size reach input_size: stretch, or keep the aspect and crop (the centre) or
    pad (with black)."""
    channels: Literal[1, 3] | None = None
    """Channels the model takes, converted from the source's (BT.601 luma, or gray repeated); omitted: as read."""
    validation_fraction: float = Field(default=0.0, ge=0.0, lt=0.5)
    """Share held out of training and reported after every stage; 0 trains on all but the test split."""
    test_fraction: float | None = Field(default=None, gt=0.0, lt=0.5)
    """Share held out for the accuracy every stage and the artifact are judged on (stratified); omitted:
    the source's own test split where it has one (fashion_mnist), else 0.2."""


class CnnTeacher(StrictModel):
    filters: tuple[PositiveInt, ...] = Field(min_length=1)
    """Output channels of each 3x3 ReLU convolution, each followed by a 2x2 max pool while the map is at
    least 4x4."""
    dense_units: PositiveInt = 64
    """Units of the dense layer before the classifier."""
    dropout: float = Field(default=0.25, ge=0.0, lt=1.0)
    """Dropout before the classifier, training only."""
    random_shift: float = Field(default=0.0, ge=0.0, lt=0.5)
    """Random translation as a fraction of height and width, training only."""


class TeacherConfig(StrictModel):
    architecture: CnnTeacher | None = None
    """Train the teacher from this CNN (exactly one of `architecture` or `path`)."""
    path: str | None = None
    """A trained Keras 2 (tf_keras) `.keras` classifier to distill from instead, relative to the recipe; its bytes
    are in the cache key, it is not trained further."""
    trust_unsafe_format: bool = False
    """Also load `path` as .h5 or SavedModel, formats that can run code when loaded."""
    training: Training | None = None
    """How to train `architecture` (required with it, unused with `path`)."""

    @model_validator(mode="after")
    def _one_source(self) -> "TeacherConfig":
        if (self.architecture is None) == (self.path is None):
            raise ValueError("expected exactly one of 'architecture' (train it) or 'path' (load a .keras file)")
        if self.architecture is not None and self.training is None:
            raise ValueError("expected 'training' when the teacher is trained from 'architecture'")
        return self


class StudentLadder(StrictModel):
    """Students to choose from before training: `choose: auto` (the largest that fits the profile,
    see app/fit.py) or a candidate's name. `architecture` and `bn_momentum` given here are every
    candidate's unless it sets its own."""

    choose: str = Field(min_length=1)
    """`auto` (the largest candidate `edgebuild fit` predicts to fit the profile) or a candidate's name."""
    architecture: StudentArchitecture | None = None
    """Every candidate's architecture unless it sets its own."""
    bn_momentum: BnMomentum | None = None
    """Every candidate's batch-norm momentum unless it sets its own."""
    candidates: tuple[Annotated[StudentConfig, WrapValidator(_candidate)], ...] = Field(min_length=1)
    """The students to choose from, each a student section with a `name`."""

    @model_validator(mode="before")
    @classmethod
    def _shared_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("candidates"), list):
            return data
        shared = {key: data[key] for key in ("architecture", "bn_momentum") if data.get(key) is not None}
        merged = [{**shared, **rung} if isinstance(rung, dict) else rung for rung in data["candidates"]]
        return {**data, "candidates": merged}

    @model_validator(mode="after")
    def _names(self) -> "StudentLadder":
        names = self.names()
        repeated = sorted({name for name in names if names.count(name) > 1 or name == AUTO})
        if repeated:
            raise ValueError(f"expected unique candidate names other than {AUTO!r}, got {repeated}")
        if self.choose != AUTO and self.choose not in names:
            raise ValueError(f"choose: expected {AUTO!r} or one of {names}, got {self.choose!r}")
        return self

    def names(self) -> list[str]:
        return [candidate.name for candidate in self.candidates]

    def students(self) -> list[StudentConfig]:
        """Each candidate as the student it is (without its name), in the recipe's order."""
        return [without_name(candidate) for candidate in self.candidates]


class AugmentConfig(StrictModel):
    """Random changes to each training batch, on the fly, in every training stage; never to the
    validation or test split. Fractions as Keras' preprocessing layers take them."""

    flip: Literal["none", "horizontal", "vertical", "both"] = "none"
    """Mirror each image at random: horizontally, vertically or both."""
    shift: float = Field(default=0.0, ge=0.0, lt=0.5)
    """Largest random shift, as a fraction of height and width (the gap filled with black)."""
    rotation: float = Field(default=0.0, ge=0.0, le=0.5)
    """Largest random rotation, as a fraction of a full turn, either way."""
    brightness: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Largest random brightness change, added, as a fraction of the [0, 1] range."""
    contrast: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Largest random contrast change: the factor is drawn from 1 ± contrast."""


class FromTeacher(StrictModel):
    """`student: {from: teacher}`: no new student; the model in `teacher.path` (the user's own) is
    itself pruned, QAT-trained and converted, without distillation."""

    source: Literal["teacher"] = Field(alias="from")
    """`from: teacher`: the model in teacher.path is the student."""


class DistillConfig(StrictModel):
    kind: Literal["response", "feature", "none"] = "response"
    """`response`: match the teacher's softened logits; `feature`: also its last conv feature map; `none`: train
    the student on labels alone."""
    temperature: PositiveFloat = 4.0
    """Softmax temperature of the soft targets."""
    alpha: float = Field(default=0.1, ge=0.0, le=1.0)
    """Weight of the label loss; 1 - alpha weighs the soft-target loss."""
    feature_weight: float = Field(default=1.0, ge=0.0)
    """Weight of the feature-map loss (kind: feature only)."""
    training: Training
    """How to train the student."""
    max_accuracy_drop: float = Field(default=0.1, ge=0.0, le=1.0)
    """Test top-1 the student may lose against the teacher before the build fails."""


class PruneConfig(StrictModel):
    target_sparsity: float | None = Field(default=None, ge=0.0, lt=1.0)
    """Fraction of conv and dense kernel weights set to zero by magnitude (exactly one of this or `m_by_n`)."""
    m_by_n: tuple[PositiveInt, PositiveInt] | None = None
    """[m, n]: at least m zeros in every n input channels (structured pruning, e.g. [2, 4])."""
    training: Training
    """The fine-tune during which weights are pruned."""
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)
    """Test top-1 pruning may lose before the build fails."""

    @model_validator(mode="after")
    def _one_pattern(self) -> "PruneConfig":
        if (self.target_sparsity is None) == (self.m_by_n is None):
            raise ValueError("expected exactly one of 'target_sparsity' (magnitude pruning) or 'm_by_n' "
                             "(structured, e.g. [2, 4])")
        if self.m_by_n is not None and self.m_by_n[0] >= self.m_by_n[1]:
            raise ValueError(f"m_by_n: expected m zeros in every n weights with m < n, got {list(self.m_by_n)}")
        return self


class ClusterConfig(StrictModel):
    number_of_clusters: int = Field(ge=2)
    """Distinct values each kernel keeps (weight clustering)."""
    centroid_init: Literal["kmeans_plus_plus", "density_based", "linear", "random"] = "kmeans_plus_plus"
    """How TF-MOT places the initial centroids."""
    training: Training
    """The fine-tune with clustered weights."""
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)
    """Test top-1 clustering may lose before the build fails."""


class QatConfig(StrictModel):
    training: Training
    """The quantization-aware fine-tune."""
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)
    """Test top-1 QAT may lose before the build fails."""


class SearchConfig(StrictModel):
    """The precision ladder (app/precision_search.py): tried in order when the configured conversion fails."""

    max_trials: PositiveInt = 7
    """Rungs tried at most, the configured conversion first."""
    representative_samples: PositiveInt = 1000
    """The better-calibrated int8 rungs' calibration draw (more samples; then also OCTAV-clipped weights)."""
    keep_float: PositiveInt = 2
    """Ops the int8_mixed rung keeps float."""
    candidates: PositiveInt = 4
    """Worst ops by int8 error whose float fallback is measured."""


class ConvertConfig(StrictModel):
    precisions: tuple[Precision, ...] = Field(default=("int8",), min_length=1)
    """Precisions this recipe may convert to; each profile takes the first it runs."""
    representative_samples: PositiveInt = 200
    """Training images the int8 calibration sees."""
    search: SearchConfig | None = None
    """The precision ladder, climbed when the configured conversion misses the accuracy floor or a budget."""
    tensor_names: Literal["full", "short"] = "full"
    """Tensor names in the published file: `full` as the converter writes them (every fused op's name,
    the Keras model's name first), `short` each tensor's layer name (inputs and outputs keep theirs):
    7 KB less on the fashion file, same ops, weights and outputs (converters/tensor_names.py)."""


class VerifyConfig(StrictModel):
    min_accuracy: float = Field(default=0.0, ge=0.0, le=1.0)
    """The artifact's test top-1 below this fails the gate."""
    max_drop_from_float: float = Field(default=0.02, ge=0.0, le=1.0)
    """Test top-1 the artifact may lose against the float model before the gate fails."""


class Recipe(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    """Names the output folder OUT/<name>/<profile>/."""
    seed: int = 0
    """Seeds the data split, weight initialisation and calibration draw (`--seed` overrides)."""
    strategy: Literal["default", "mirrored", "multi-worker"] = "default"
    """tf.distribute strategy for the training stages (`--strategy` overrides)."""
    min_stage_accuracy: float = Field(default=0.3, ge=0.0, le=1.0)
    """A training stage whose test top-1 falls below this has collapsed: the build fails."""
    data: DataConfig
    """The labelled images and how they are split."""
    teacher: TeacherConfig
    """The model distilled from: trained from `architecture`, or loaded from `path`."""
    student: StudentConfig | StudentLadder | FromTeacher
    """The model that becomes the artifact: one student, `candidates` to choose from, or `{from: teacher}`
    to compress the teacher file itself."""
    distill: DistillConfig | None = None
    """Knowledge distillation from the teacher into the student (required unless the student is the
    teacher itself)."""
    augment: AugmentConfig | None = None
    """Random changes to each training batch, in every training stage."""
    prune: PruneConfig | None = None
    """Optional magnitude or m-by-n pruning fine-tune."""
    cluster: ClusterConfig | None = None
    """Optional weight-clustering fine-tune."""
    qat: QatConfig | None = None
    """Optional quantization-aware training before int8 conversion."""
    convert: ConvertConfig = ConvertConfig()
    """TFLite conversion settings."""
    verify: VerifyConfig = VerifyConfig()
    """Accuracy limits of the release gate (the profile sets the rest)."""

    @field_validator("student", mode="wrap")
    @classmethod
    def _student_form(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> StudentConfig | StudentLadder:
        """A mapping with `candidates` is a ladder, any other one student: each form's errors then name
        its own fields (`student.width`), not a union branch."""
        if isinstance(value, dict):
            if "from" in value:
                return FromTeacher.model_validate(value)
            return StudentLadder.model_validate(value) if "candidates" in value else student_config(value)
        return handler(value)

    @model_validator(mode="after")
    def _distill_unless_compressing_the_teacher(self) -> "Recipe":
        if not isinstance(self.student, FromTeacher):
            if self.distill is None:
                raise ValueError("distill: expected a distill section (or student: {from: teacher} to compress "
                                 "the model in teacher.path itself)")
        elif self.teacher.path is None:
            raise ValueError("student.from: teacher compresses your own model: expected teacher.path, not "
                             "teacher.architecture")
        elif self.distill is not None:
            raise ValueError("distill: student.from: teacher compresses the model in teacher.path as it is: "
                             "expected no distill section")
        return self


def load_recipe(name_or_path: str) -> tuple[Recipe, Path]:
    """A bundled recipe name or a YAML path → the validated recipe and the file it came from."""
    return models.load(name_or_path, RECIPES_PACKAGE, "recipe", Recipe)


def recipe_names() -> list[str]:
    return models.bundled_names(RECIPES_PACKAGE)


def recipe_sha256(path: Path) -> str:
    """The hash that stands for a recipe file in a build's inputs, and so in its artifact's metadata:
    the file's sha256 with the lines of its `convert.search` entry cut out. A search only picks which
    rung ships, so a recipe that gains one and ships rung 1 keeps its artifact's bytes; a recipe
    without one hashes as its file (see `sha256_without_entry` for a search in flow style)."""
    return sha256_without_entry(path.read_bytes(), SEARCH_ENTRY)
