"""Is llama-cpp-python safe to use on this machine? A native build can crash (a binary
compiled for another CPU dies with SIGILL or SIGSEGV on the first token), so it is tried once
in a child process on the embedded model, and the verdict is kept beside the installed
library (keyed by its version and build), so every later run reads it in microseconds.

``python -m snellen.llm.enginecheck`` runs the check and prints one line (setup calls it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

_SMOKE = """
import sys
from llama_cpp import Llama
m = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=1, verbose=False, seed=0)
# A whole prompt, not one token: batched prompt evaluation takes other kernels than the
# one-token path, and a build for the wrong CPU may survive one and die in the other.
messages = [{"role": "user", "content": "Write SVG code that draws a red circle on a square."}]
out = m.create_chat_completion(messages=messages, max_tokens=16, temperature=0.0)
print("SNELLEN-SMOKE-OK", repr(out["choices"][0]["message"]["content"]))
"""

SMOKE_SECONDS = 300


@dataclass(frozen=True)
class EngineCheck:
    """The verdict on one build of llama-cpp-python."""

    ok: bool
    reason: str
    build: str  # version and a fingerprint of the shared library


def _library() -> Path | None:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    libs = sorted((folder / "lib").glob("libllama*.so*")) or sorted(folder.rglob("libllama*"))
    return libs[0] if libs else folder


def _build_id(lib: Path) -> str:
    from importlib import metadata

    try:
        version = metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        version = "unknown"
    st = lib.stat()
    digest = hashlib.sha256(f"{lib}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return f"{version}-{digest}"


def _verdict_path() -> Path:
    return Path(sys.prefix) / "share" / "snellen" / "llama-cpp-check.json"


def run_check(model_path: Path | None = None) -> EngineCheck:
    """Run the smoke test now, in a child process, and store the verdict."""
    lib = _library()
    if lib is None:
        return EngineCheck(False, "llama-cpp-python is not installed", "")
    build = _build_id(lib)
    if model_path is None:
        from snellen.llm.files import smollm2_path

        model_path = smollm2_path()
    try:
        proc = subprocess.run(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
            [sys.executable, "-c", _SMOKE, str(model_path)],
            capture_output=True, text=True, timeout=SMOKE_SECONDS,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        verdict = EngineCheck(False, f"no token within {SMOKE_SECONDS} s", build)
    else:
        if proc.returncode == 0 and "SNELLEN-SMOKE-OK" in proc.stdout:
            verdict = EngineCheck(True, "generated tokens", build)
        else:
            code = proc.returncode
            how = f"exit status {code}"
            if code < 0:
                try:
                    how = f"signal {signal.Signals(-code).name}"
                except ValueError:
                    how = f"signal {-code}"
            tail = (proc.stderr.strip().splitlines() or [""])[-1][:200]
            verdict = EngineCheck(False, f"crashed ({how}) {tail}".strip(), build)
    target = _verdict_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(asdict(verdict)))
    except OSError:
        pass
    return verdict


@cache
def llama_cpp_check() -> EngineCheck:
    """The stored verdict for the installed build, running the smoke test when there is none
    (or the library changed since)."""
    lib = _library()
    if lib is None:
        return EngineCheck(False, "llama-cpp-python is not installed", "")
    build = _build_id(lib)
    try:
        stored = EngineCheck(**json.loads(_verdict_path().read_text()))
        if stored.build == build:
            return stored
    except (OSError, ValueError, TypeError):
        pass
    return run_check()


def main() -> int:
    verdict = run_check()
    if verdict.ok:
        print("setup: llama.cpp engine works on this CPU (smoke test passed)")
    elif verdict.reason == "llama-cpp-python is not installed":
        print("setup: llama-cpp-python is not installed; local GGUF models use transformers")
    else:
        print(
            f"setup: llama.cpp engine {verdict.reason}; local GGUF models will use the "
            "transformers engine instead (slower, same replies' format)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
