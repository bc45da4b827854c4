#!/usr/bin/env bash
# Submits slurm/cpu.sbatch on the demo data to a real single-node Slurm cluster started here on
# localhost (docs/development.md §5), waits for it (sbatch --wait), checks the results, and stops
# the daemons it started, by PID. Needs root and scripts/install-deps.sh --slurm.
# Usage: tests/slurm/slurm_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
run=$(mktemp -d /tmp/gsmap_slurm.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

host=$(hostname)
mkdir -p /run/munge /var/log/munge /var/lib/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown munge:munge /run/munge /var/log/munge /var/lib/munge
[[ -f /etc/munge/munge.key ]] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
if ! pgrep -x munged >/dev/null; then
  setsid runuser -u munge -- /usr/sbin/munged -F >"$run/munged.out" 2>&1 </dev/null &
  pids+=($!)
fi
cpus=$(nproc)
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=gsmaptest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
sleep 1
setsid /usr/sbin/slurmctld -D -i >"$run/slurmctld.out" 2>&1 </dev/null &
pids+=($!)
setsid /usr/sbin/slurmd -D >"$run/slurmd.out" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 30); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo

"$build/bin/gsmap-mpi" simulate --out "$run/data" --seed 1
cd "$run"
export GSMAP_EXE="$build/bin/gsmap-mpi" GSMAP_DATA="$run/data" GSMAP_WORKDIR="$run/work" GSMAP_PROJECT=demo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
timeout 600 sbatch --wait --cpus-per-task="$cpus" "$repo/slurm/cpu.sbatch"
cat "$run"/gsmap-cpu-*.out | tail -5
/usr/bin/python3 - "$run" <<'PY'
import sys, pandas as pd
s = sys.argv[1]
p = pd.read_csv(f"{s}/work/demo/cauchy_combination/demo_planted_T1.annotation.cauchy.csv")
top = p.sort_values("p_cauchy").iloc[0]
print(f"Slurm job result: top {top.annotation} p_cauchy {top.p_cauchy:.3g}")
assert top.annotation == "T1" and top.p_cauchy < 1e-6
PY
echo "slurm test passed"
