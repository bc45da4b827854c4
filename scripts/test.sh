#!/usr/bin/env bash
# Fresh machine -> green tests: installs what is missing, builds, runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DGSMAP_WERROR=ON -DGSMAP_TEST_HOOKS=ON
cd build
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" --timeout 600
