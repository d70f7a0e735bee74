#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (slurmctld + slurmd + munged) for tests/test_slurm.py.
#
#   bash tests/slurm/start_cluster.sh      # idempotent: does only what is missing, says what it did
#   bash tests/slurm/stop_cluster.sh       # stops what this script started
#
# The node offers every CPU (nproc), 90% of the memory, and one fake GPU (gres gpu:fake:1, File=/dev/null) so that
# `--gpus=fake:1` requests schedule on a CPU-only box. No accounting database: use `squeue` for job status.
# Needs root (munge user, daemons, /etc/slurm) and, when slurm-wlm/munge are missing, apt-get.
# Exit codes: 0 = the node is idle and takes jobs; 2 = cannot run here (reason on stderr, first line "SKIP: ...");
# 1 = tried and failed (reason and daemon logs on stderr).
set -euo pipefail

MARKER="# written by biocredit tests/slurm/start_cluster.sh"
CONF=/etc/slurm/slurm.conf
GRES=/etc/slurm/gres.conf
STATE_DIR=/run/biocredit-slurm          # what this script started, for stop_cluster.sh
PARTITION=debug

say() { echo "start_cluster: $*"; }
cannot() { echo "SKIP: $*" >&2; exit 2; }
fail() {
    echo "FAIL: $*" >&2
    for log in /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log /var/log/munge/munged.log; do
        [ -f "$log" ] && { echo "--- tail $log" >&2; tail -n 15 "$log" >&2; }
    done
    exit 1
}

[ "$(id -u)" = 0 ] || cannot "not root (a local SLURM needs root to run munged, slurmctld and slurmd)"

# 1. Packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
        || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || cannot "slurm-wlm/munge are not installed and there is no apt-get to install them"
    say "installing slurm-wlm and munge with apt-get"
    t0=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/tmp/biocredit-slurm-apt.log 2>&1 \
        || cannot "apt-get update failed (no package mirror reachable?): $(tail -n 3 /tmp/biocredit-slurm-apt.log)"
    apt-get install -y -qq slurm-wlm munge >>/tmp/biocredit-slurm-apt.log 2>&1 \
        || cannot "apt-get install slurm-wlm munge failed: $(tail -n 3 /tmp/biocredit-slurm-apt.log)"
    say "installed in $((SECONDS - t0)) s: $(dpkg-query -W -f='${Package} ${Version}, ' slurm-wlm munge)"
else
    say "slurm-wlm and munge already installed"
fi

# 2. Configuration (never overwrite a slurm.conf this script did not write: that would be a real cluster's)
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    cannot "$CONF exists and was not written by this script (a real cluster's configuration?); not touching it"
fi
new_conf=$(cat <<EOF
$MARKER
ClusterName=biocredit
SlurmctldHost=$HOST(127.0.0.1)
GresTypes=gpu
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
# Backfill every second (default 30 s): CPU jobs queued behind a job waiting for the one GPU start at once.
SchedulerParameters=bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmUser=slurm
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# Finished jobs stay visible to squeue/scontrol for an hour (no accounting database, so no sacct).
MinJobAge=3600
MpiDefault=none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:fake:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
)
new_gres="$MARKER
NodeName=$HOST Name=gpu Type=fake Count=1 File=/dev/null"
conf_changed=0
if [ "$(cat "$CONF" 2>/dev/null)" != "$new_conf" ] || [ "$(cat "$GRES" 2>/dev/null)" != "$new_gres" ]; then
    mkdir -p /etc/slurm
    printf '%s\n' "$new_conf" >"$CONF"
    printf '%s\n' "$new_gres" >"$GRES"
    conf_changed=1
    say "wrote $CONF and $GRES (node $HOST, $CPUS CPUs, $MEM_MB MB, gres gpu:fake:1, partition $PARTITION)"
else
    say "$CONF and $GRES are up to date"
fi
mkdir -p /var/lib/slurm/slurmd /var/lib/slurm/slurmctld /var/log/slurm /run/munge /var/log/munge "$STATE_DIR"
chown -R slurm:slurm /var/lib/slurm /var/log/slurm
chown munge:munge /run/munge /var/log/munge

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# 3. munge (authentication between the daemons and the clients)
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running"
else
    [ -s /etc/munge/munge.key ] || { mungekey --create --force >/dev/null 2>&1 || \
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none; say "created /etc/munge/munge.key"; }
    chown munge:munge /etc/munge/munge.key && chmod 600 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
    touch "$STATE_DIR/munged"
    for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
    munge -n | unmunge >/dev/null 2>&1 || fail "munged started but 'munge -n | unmunge' fails"
    say "started munged"
fi

# 4. slurmctld and slurmd (restarted when the configuration changed)
if [ "$conf_changed" = 1 ] && { alive /run/slurmctld.pid || alive /run/slurmd.pid; }; then
    say "configuration changed: restarting the SLURM daemons"
    scontrol shutdown >/dev/null 2>&1 || true
    for _ in $(seq 40); do alive /run/slurmctld.pid || alive /run/slurmd.pid || break; sleep 0.25; done
fi
if alive /run/slurmctld.pid && scontrol ping 2>/dev/null | grep -q UP; then
    say "slurmctld already running"
else
    slurmctld || fail "slurmctld did not start"
    touch "$STATE_DIR/slurm"
    say "started slurmctld"
fi
if alive /run/slurmd.pid; then
    say "slurmd already running"
else
    slurmd || fail "slurmd did not start"
    touch "$STATE_DIR/slurm"
    say "started slurmd"
fi

# 5. Wait for the node to take jobs
state=""
for _ in $(seq 60); do
    state=$(sinfo -h -N -n "$HOST" -o %T 2>/dev/null | head -n 1 || true)
    case "$state" in
        idle | mixed | allocated | completing) break ;;
        down* | drain* | drained*)
            scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
done
case "$state" in
    idle | mixed | allocated | completing) ;;
    *) fail "node $HOST is '${state:-unknown}' after 30 s (sinfo: $(sinfo -N 2>&1 | tail -n 2))" ;;
esac
say "node $HOST is $state: $(sinfo -h -o '%P %D %c CPUs %m MB %G')"
