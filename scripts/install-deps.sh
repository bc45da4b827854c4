#!/usr/bin/env bash
# Installs every Debian package gsmap-mpi needs to build, test and run the demo.
# Idempotent: packages already present are skipped; waits for the dpkg lock.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --slurm    also Slurm + munge (for the Slurm template test)
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake pkg-config git ccache
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libeigen3-dev
  libboost-program-options-dev libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libtbb-dev zlib1g-dev libdeflate-dev
  libyaml-cpp-dev nlohmann-json3-dev libcairo2-dev patchelf
)
# Test-time cross-checks only (Debian's python, never pyenv's); Chromium and PIL for the report's
# browser test (tests/integration/report_test.sh).
TEST_PKGS=(python3 python3-h5py python3-anndata python3-numpy python3-pandas python3-scipy
           python3-yaml python3-pil chromium)
# tclsh evaluates the installed environment-module file (ctest integration.install).
TEST_PKGS+=(tcl)
SLURM_PKGS=(slurmctld slurmd slurm-client munge)

want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
[[ "${1:-}" == "--slurm" ]] && want+=("${SLURM_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  -o DPkg::Lock::Timeout=600 "${missing[@]}"
