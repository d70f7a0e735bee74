#!/usr/bin/env bash
# Stop the one-node SLURM cluster that tests/slurm/start_cluster.sh started (only what it started).
set -uo pipefail

STATE_DIR=/run/biocredit-slurm
say() { echo "stop_cluster: $*"; }

[ "$(id -u)" = 0 ] || { echo "stop_cluster: not root; nothing to do" >&2; exit 2; }
if [ -f "$STATE_DIR/slurm" ]; then
    scontrol shutdown >/dev/null 2>&1 && say "stopped slurmctld and slurmd (scontrol shutdown)"
    for _ in $(seq 40); do
        { [ -f /run/slurmctld.pid ] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null; } || break
        sleep 0.25
    done
    rm -f "$STATE_DIR/slurm"
else
    say "no SLURM daemons started by start_cluster.sh"
fi
if [ -f "$STATE_DIR/munged" ]; then
    pidfile=/run/munge/munged.pid
    if [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
        say "stopped munged (pid $(cat "$pidfile" 2>/dev/null || echo gone))"
    fi
    rm -f "$STATE_DIR/munged"
fi
