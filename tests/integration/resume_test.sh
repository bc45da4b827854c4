#!/usr/bin/env bash
# Kill-and-resume: quick-mode on fx2d with 2 ranks is killed with SIGKILL (GSMAP_KILL_AT, see
# core/kill_point.hpp) during ranking, the GSS pipeline, spatial LDSC (mid-trait and between
# traits) and Cauchy; the same command is then run again. Every output must carry the same data as
# an uninterrupted run (tests/integration/outputs_same.py), and the second run must skip what was
# finished and is up to date.
# Usage: resume_test.sh EXE FIXTURE_DIR SCRATCH
set -uo pipefail
exe=$1 fx=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
# The kill points exist only in a build configured with -DGSMAP_TEST_HOOKS=ON (scripts/test.sh).
if ! "$exe" --version | grep -q "^test hooks: on"; then
  echo "SKIP: this gsmap-mpi was built without -DGSMAP_TEST_HOOKS=ON, so GSMAP_KILL_AT is ignored;"
  echo "      reconfigure with cmake -DGSMAP_TEST_HOOKS=ON (scripts/test.sh does) to run this test"
  exit 77
fi
rm -rf "$scratch" && mkdir -p "$scratch"
fail=0
"$here/run_fixture.sh" "$exe" "$fx" 2 "$scratch/ref" >"$scratch/ref.log" 2>&1 || { echo "reference run failed"; exit 1; }
declare -A skipped=(
  [ranking]=""
  [gss]="Stage A: reusing"
  [ldsc_mid_trait]="skipping latent_to_gene: complete and up to date"
  [ldsc_between_traits]="skipping spatial_ldsc for trait planted_T1: complete and up to date"
  [cauchy]="spatial_ldsc: all 2 traits done")
for point in ranking gss ldsc_mid_trait ldsc_between_traits cauchy; do
  work="$scratch/$point"
  if GSMAP_KILL_AT=$point "$here/run_fixture.sh" "$exe" "$fx" 2 "$work" >"$work.killed.log" 2>&1; then
    echo "FAIL $point: the run was not killed"; fail=1; continue
  fi
  # A resubmitted job starts after the killed one's processes are gone. mpirun may return while a
  # rank it signalled is still finishing a write (SIGKILL waits for the system call); that rank
  # still owns its temp files (io::AtomicOutput removes only dead processes' temps).
  for _ in $(seq 150); do pgrep -f -- "--workdir $work( |$)" >/dev/null || break; sleep 0.2; done
  if [[ -f "$work/fx2d/cauchy_combination/fx2d_null_trait.domain.sample_cauchy.csv" ]]; then
    echo "FAIL $point: killed run left complete results"; fail=1
  fi
  "$here/run_fixture.sh" "$exe" "$fx" 2 "$work" >"$work.resumed.log" 2>&1 || { echo "FAIL $point: resume failed"; tail "$work.resumed.log"; fail=1; continue; }
  if [[ -n "${skipped[$point]}" ]] && ! grep -q "${skipped[$point]}" "$work.resumed.log"; then
    echo "FAIL $point: the resumed run did not skip finished work ('${skipped[$point]}')"; fail=1
  fi
  if /usr/bin/python3 "$here/fixture_check.py" same "$scratch/ref/fx2d" "$work/fx2d" >"$work.same.log"; then
    echo "ok   killed at $point, resumed: outputs identical to the uninterrupted run"
  else
    echo "FAIL $point: outputs differ"; grep FAIL "$work.same.log"; fail=1
  fi
done
exit $fail
