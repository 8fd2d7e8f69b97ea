"""Tiny real models, converted once per session, and helpers that run the runner as a child."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

RUNNER_SOURCE = Path(__file__).resolve().parents[2] / "on_device_bench"
CLASSES = 3
IMAGE_SHAPE = (4, 4, CLASSES)


def _tensorflow():
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import tf_keras

    return tf, tf_keras


def _channel_classifier():
    """Class = the channel with the largest mean: identity 1x1 conv, average pool, identity dense."""
    tf, keras = _tensorflow()
    image = keras.Input(IMAGE_SHAPE, name="image")
    features = keras.layers.Conv2D(
        CLASSES, 1, name="conv", kernel_initializer=keras.initializers.Constant(np.eye(CLASSES))
    )(image)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    logits = keras.layers.Dense(
        CLASSES, name="logits", kernel_initializer=keras.initializers.Constant(np.eye(CLASSES))
    )(pooled)
    return tf, keras.Model(image, logits)


def _channel_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Images whose channel `label` is bright and the others dim: the classifier's known answers."""
    random = np.random.default_rng(seed)
    images = random.uniform(0.0, 0.3, size=(len(labels),) + IMAGE_SHAPE).astype(np.float32)
    images[np.arange(len(labels)), :, :, labels] += 0.6
    return images


@pytest.fixture(scope="session")
def float_classifier(tmp_path_factory) -> Path:
    tf, model = _channel_classifier()
    path = tmp_path_factory.mktemp("models") / "float_classifier.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


@pytest.fixture(scope="session")
def int8_classifier(tmp_path_factory) -> Path:
    tf, model = _channel_classifier()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    labels = np.arange(60) % CLASSES
    converter.representative_dataset = lambda: ([image[None]] for image in _channel_images(labels))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    path = tmp_path_factory.mktemp("models") / "int8_classifier.tflite"
    with warnings.catch_warnings():
        # The converter always warns that int8 inputs have no statistics; the calibration covers them.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        path.write_bytes(converter.convert())
    return path


@pytest.fixture(scope="session")
def two_in_two_out(tmp_path_factory) -> Path:
    tf, keras = _tensorflow()
    vector = keras.Input((4,), name="vector")
    image = keras.Input((6, 6, 2), name="image")
    convolved = keras.layers.Conv2D(3, 3, name="conv")(image)
    joined = keras.layers.Concatenate(name="join")([keras.layers.Flatten()(convolved), vector])
    scores = keras.layers.Dense(5, name="scores")(joined)
    box = keras.layers.Dense(2, name="box")(vector)
    model = keras.Model([vector, image], [scores, box])
    path = tmp_path_factory.mktemp("models") / "two_in_two_out.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


@pytest.fixture(scope="session")
def every_dtype(tmp_path_factory) -> Path:
    """One input per dtype the runner must feed, all cast to float and summed."""
    tf, _ = _tensorflow()
    dtypes = ["float32", "float16", "int8", "uint8", "int16", "int32", "int64", "bool"]
    specs = [tf.TensorSpec([1, 2], getattr(tf, dtype), name=dtype) for dtype in dtypes]

    @tf.function(input_signature=specs)
    def add_all(*inputs):
        return tf.add_n([tf.cast(value, tf.float32) for value in inputs])

    converter = tf.lite.TFLiteConverter.from_concrete_functions([add_all.get_concrete_function()], add_all)
    path = tmp_path_factory.mktemp("models") / "every_dtype.tflite"
    path.write_bytes(converter.convert())
    return path


@pytest.fixture(scope="session")
def custom_op_model(tmp_path_factory) -> Path:
    """BesselI0e has no TFLite builtin: with allow_custom_ops it becomes a custom op nobody provides."""
    tf, _ = _tensorflow()

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    def bessel(values):
        return tf.math.bessel_i0e(values)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([bessel.get_concrete_function()], bessel)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = True
    path = tmp_path_factory.mktemp("models") / "custom_op.tflite"
    path.write_bytes(converter.convert())
    return path


RunRunner = Callable[..., subprocess.CompletedProcess]


def _runner_in(folder: Path, module: str) -> RunRunner:
    def run(*args: object, python: str = sys.executable, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-m", module, *map(str, args)],
            cwd=folder, capture_output=True, text=True, timeout=timeout,
        )

    return run


def _copied_runner(folder: Path) -> RunRunner:
    shutil.copytree(RUNNER_SOURCE, folder / "on_device_bench", ignore=shutil.ignore_patterns("__pycache__"))
    return _runner_in(folder, "on_device_bench")


@pytest.fixture(params=["installed", "copied"])
def run_runner(request, tmp_path) -> RunRunner:
    """Runs the runner as `python -m edgebuild.on_device_bench`, and again copied on its own as
    `python -m on_device_bench` from a folder that holds nothing else."""
    if request.param == "installed":
        return _runner_in(tmp_path, "edgebuild.on_device_bench")
    return _copied_runner(tmp_path)


@pytest.fixture
def run_copied(tmp_path) -> RunRunner:
    """The runner copied on its own, for a Python that has no edgebuild (the board's)."""
    return _copied_runner(tmp_path)


@pytest.fixture
def run_installed(tmp_path) -> RunRunner:
    """The installed runner only, for checks the way it was started cannot change."""
    return _runner_in(tmp_path, "edgebuild.on_device_bench")


@pytest.fixture
def labelled_data(tmp_path) -> Callable[..., Path]:
    """Writes an .npz of channel images: x drawn for `true_labels`, y as given (to be right or wrong)."""

    def write(true_labels: np.ndarray, y: np.ndarray, name: str = "data.npz") -> Path:
        path = tmp_path / name
        np.savez(path, x=_channel_images(np.asarray(true_labels)), y=np.asarray(y))
        return path

    return write


@pytest.fixture
def channel_pixels() -> Callable[[np.ndarray], np.ndarray]:
    """8-bit channel images for these labels: the classifier's known answers once divided by 255."""
    return lambda labels: np.round(_channel_images(np.asarray(labels)) * 255).astype(np.uint8)


BOARD_PACKAGES = ["numpy<2", "tflite-runtime==2.14.0"]
_NETWORK_ERRORS = (
    "NewConnectionError", "Max retries exceeded", "Temporary failure in name resolution",
    "Network is unreachable", "ConnectTimeoutError", "ProxyError", "Name or service not known",
)


@pytest.fixture(scope="session")
def board_python() -> str:
    """The Python of a stand-in board: a venv with only NumPy 1.x and tflite-runtime 2.14,
    built once under the user's cache folder and reused."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    venv = cache / "edgebuild-test-board-venv"
    python = venv / "bin" / "python"
    if not _board_ready(python):
        _build_board_venv(venv)
    return str(python)


def _board_ready(python: Path) -> bool:
    check = "import numpy, tflite_runtime.interpreter; assert numpy.__version__ < '2'"
    return python.exists() and subprocess.run([str(python), "-c", check], capture_output=True).returncode == 0


def _build_board_venv(venv: Path) -> None:
    # Built beside the final place and renamed into it, so a half-built venv is never reused.
    building = venv.with_name(f"{venv.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run(["python3", "-m", "venv", str(building)], check=True)
    pip = subprocess.run(
        [str(building / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         *BOARD_PACKAGES],
        capture_output=True, text=True,
    )
    if pip.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        if any(error in pip.stderr for error in _NETWORK_ERRORS):
            pytest.skip("cannot reach the package registry to build the board venv: "
                        + pip.stderr.strip().splitlines()[-1])
        pytest.fail("pip could not build the board venv:\n" + pip.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    os.replace(building, venv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgebuild-test", "-f", str(path)],
                   check=True)
    return path.with_suffix(".pub").read_text().strip()


class Sshd(NamedTuple):
    device: str
    ssh_config: Path
    folder: Path
    board_tmp: Path

    def client_config(self, name: str, *, identity: str = "client_key", known_hosts: str = "known_hosts") -> Path:
        """An ssh_config for this server with another key or known_hosts file."""
        path = self.folder / name
        path.write_text(_client_config(self.folder / identity, self.folder / known_hosts))
        return path


def _client_config(identity: Path, known_hosts: Path) -> str:
    return (
        "Host *\n"
        f"  IdentityFile {identity}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n  LogLevel ERROR\n"
    )


@pytest.fixture(scope="session")
def sshd(tmp_path_factory) -> Iterator[Sshd]:
    """A real OpenSSH server on 127.0.0.1, run as the current user, that accepts one generated key;
    the client side uses its own ssh_config (-F) so the user's ~/.ssh is never read."""
    sshd_path = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd_path):
        pytest.fail("no OpenSSH server: apt-get install -y openssh-server")
    if os.geteuid() == 0:
        # sshd run as root insists on its privilege-separation directory, which the package's
        # service unit (not installed in containers) would create.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    folder = tmp_path_factory.mktemp("sshd")
    board_tmp = folder / "board-tmp"
    board_tmp.mkdir()
    host_key = _keygen(folder / "host_key")
    (folder / "authorized_keys").write_text(_keygen(folder / "client_key") + "\n")
    _keygen(folder / "stranger_key")
    _keygen(folder / "other_host_key")
    port = free_port()
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder}/host_key\nPidFile {folder}/sshd.pid\n"
        f"AuthorizedKeysFile {folder}/authorized_keys\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\n"
        # The board's temporary folder, so a test can see that nothing is left in it.
        f"SetEnv TMPDIR={board_tmp}\n"
    )
    with open(folder / "sshd.log", "wb") as log:
        server = subprocess.Popen([sshd_path, "-D", "-e", "-f", str(folder / "sshd_config")],
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server, folder / "sshd.log")
        ssh_config = folder / "ssh_config"
        ssh_config.write_text(_client_config(folder / "client_key", folder / "known_hosts"))
        yield Sshd(f"ssh://{getpass.getuser()}@127.0.0.1:{port}", ssh_config, folder, board_tmp)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_port(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail("sshd exited: " + log.read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"sshd did not listen on port {port}: {log.read_text()}")


@pytest.fixture
def process_ends():
    """Whether the process `pid` is gone within five seconds (a kill is not instant)."""

    def ends(pid: int) -> bool:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.05)
        return False

    return ends


@pytest.fixture(scope="session")
def channel_data(tmp_path_factory) -> Path:
    """Labelled images the channel classifiers score perfectly, as a .npz for --data."""
    labels = np.arange(30) % CLASSES
    path = tmp_path_factory.mktemp("data") / "channels.npz"
    np.savez(path, x=_channel_images(labels, seed=2), y=labels)
    return path
