"""Keep TensorFlow's native log lines (oneDNN, CUDA probes, converter chatter) off the user's terminal.

TensorFlow's C++ code writes to file descriptor 2 before its log level applies; only Python's
stderr stays on the terminal. The native lines go to a temporary log, kept and named when the
command fails unexpectedly, deleted otherwise.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def native_stderr_captured(verbose: bool = False) -> Iterator[None]:
    """`verbose`: leave file descriptor 2 alone, so the native lines reach the terminal."""
    if verbose:
        yield
        return
    from edgebuild.base.errors import EdgebuildError

    handle, log_path = tempfile.mkstemp(prefix="edgebuild-native-", suffix=".log")
    terminal = os.dup(2)
    original_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(terminal), "w", buffering=1)
    os.dup2(handle, 2)
    keep_log = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # converter UserWarnings; the report carries what matters
            yield
    except (EdgebuildError, OSError, KeyboardInterrupt, SystemExit):  # what the CLI explains in one line
        raise
    except BaseException:
        keep_log = True
        raise
    finally:
        os.dup2(terminal, 2)
        os.close(terminal)
        os.close(handle)
        sys.stderr.close()
        sys.stderr = original_stderr
        if keep_log:
            print(f"TensorFlow's native log for this run: {log_path}", file=sys.stderr)
        else:
            os.unlink(log_path)
