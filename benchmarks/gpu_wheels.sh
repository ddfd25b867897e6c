#!/usr/bin/env bash
# Fill a wheelhouse (default: the git-ignored .whl/) for a machine that has Python and torch but no network (a lent GPU
# machine, a Kaggle notebook): the five cryo packages plus every dependency its image lacks, as binary wheels for the
# target CPython. Run it where there is a package index; install there with benchmarks/wheel_install.sh; check it with
# ci/wheelhouse_check.sh (size, offline install into a fresh --target, completeness).
#
# Usage: bash benchmarks/gpu_wheels.sh [OUT_DIR]
#   PYVER=312                          target CPython version (default 312: the GPU machines' 3.12; Kaggle images: 311)
#   PLATFORMS="manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 linux_x86_64"
#   PYTHON=python3                     the Python that runs pip here
#   IMAGE_PKGS="..."                   what the target image already has (default: the GPU image 'cuda', below)
#   LEAVE_OUT="..."                    required by copick's metadata but never imported on our paths (default below)
#   SKIP="..."                         more distributions not to download
#   CONSTRAINTS=FILE                   pip constraints (default: polars==1.31.0, one wheel of 36 MB instead of 54 MB)
# A lent GPU machine takes at most 64 MiB of wheels: the defaults keep it under that (ci/wheelhouse_check.sh checks).
# The wheelhouse gets image.txt and left_out.txt: the names assumed present and the names left out on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-.whl}"
PYVER="${PYVER:-312}"
PY="${PYTHON:-python3}"
PLATFORMS="${PLATFORMS:-manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 linux_x86_64}"
PKGS=(cryo-metric cryo-data cryo-models cryo-infer cryo-train)
# a bare torch image holds torch and its own requirements; the GPU image 'cuda' holds these (/work/.library/device/
# KINDS.md, read 2026-11-17): never downloaded, the image's stay in use
IMAGE_DEFAULT="
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core
cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock
flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx
huggingface-hub humanize hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt
jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning lightning-utilities
linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes
mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals networkx ninja numba
numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse
nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx
onnx-ir onnxruntime onnxscript opencv-python-headless optax opt-einsum opt-einsum-fx optimistix
orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker prometheus-client
propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions
pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil pytorch-lightning
pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy seaborn
sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels sympy
tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz
torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer
typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
"
IMAGE_PKGS="${IMAGE_PKGS:-$IMAGE_DEFAULT}"
# copick's requirements for remote filesystems (S3, SSH), the portal, its terminal UI, meshes and other file formats:
# `import copick` and its filesystem projects (what open_project and the Kaggle layout use) import none of them
LEAVE_OUT="${LEAVE_OUT:-s3fs aiobotocore botocore boto3 s3transfer jmespath aioitertools sshfs asyncssh cryptography
cffi pycparser textual textual-serve linkify-it-py uc-micro-py mdit-py-plugins trimesh mlcroissant cryoet-data-portal
gql graphql-core requests-toolbelt backoff ome-zarr dask distributed toolz partd locket zict tblib cloudpickle
starfile emfile dynamotable distinctipy jsonpath-rw rdflib isodate networkx etils absl-py}"
TORCH_OWN="torch triton filelock typing-extensions typing_extensions sympy mpmath networkx jinja2 markupsafe fsspec setuptools"
TORCH_OWN="$TORCH_OWN $(echo $IMAGE_PKGS) $(echo $LEAVE_OUT) ${SKIP:-}"
if [ -z "${CONSTRAINTS:-}" ]; then
  CONSTRAINTS="$(mktemp)"; echo "polars==1.31.0" > "$CONSTRAINTS"
fi
con_args=(-c "$CONSTRAINTS")
mkdir -p "$OUT"
plat_args=(); for p in $PLATFORMS; do plat_args+=(--platform "$p"); done

# 1. the five packages (pure Python): ci/wheels.sh where it exists, else pip wheel
if [ -f ci/wheels.sh ]; then PYTHON="$PY" bash ci/wheels.sh "$OUT" >/dev/null
else
  rm -f "$OUT"/cryo_*.whl
  for pkg in "${PKGS[@]}"; do "$PY" -m pip wheel --no-deps --quiet --wheel-dir "$OUT" "packages/$pkg"; done
fi

# 2. resolve every dependency for the target Python (binary wheels only), then drop torch's own closure
report="$(mktemp)"
"$PY" -m pip install --dry-run --ignore-installed --quiet --report "$report" --only-binary=:all: \
  --python-version "$PYVER" --implementation cp "${plat_args[@]}" --target "$(mktemp -d)" \
  --find-links "$OUT" "${con_args[@]}" "${PKGS[@]}"
"$PY" - "$report" "$TORCH_OWN" > "$OUT/requirements.txt" <<'PYEOF'
import json, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
skip = {norm(n) for n in sys.argv[2].split()} | {"cryo-metric", "cryo-data", "cryo-models", "cryo-infer", "cryo-train"}
for item in json.load(open(sys.argv[1]))["install"]:
    m = item["metadata"]
    if norm(m["name"]) in skip or norm(m["name"]).startswith("nvidia-"): continue
    print(f"{m['name']}=={m['version']}")
PYEOF
rm -f "$report"
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp "${plat_args[@]}" \
  -d "$OUT" -r "$OUT/requirements.txt"
cp benchmarks/wheel_install.sh "$OUT/"  # the wheelhouse installs itself (a Kaggle dataset holds both)
echo torch triton $IMAGE_PKGS ${SKIP:-} | tr ' ' '\n' | sed '/^$/d' > "$OUT/image.txt"
echo $LEAVE_OUT | tr ' ' '\n' | sed '/^$/d' > "$OUT/left_out.txt"
echo "wheelhouse $OUT: $(ls "$OUT"/*.whl | wc -l) wheels for cp$PYVER ($(du -sh "$OUT" | cut -f1)); install with:"
echo "  bash benchmarks/wheel_install.sh $OUT [TARGET]"
