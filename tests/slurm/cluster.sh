#!/bin/bash
# A single-node Slurm cluster for tests, in a scratch directory:
#   cluster.sh start DIR   writes DIR/slurm.conf, starts munged (if no
#                          munge daemon answers), slurmctld and slurmd, and
#                          waits until the node is idle;
#   cluster.sh stop DIR    stops what `start` started.
# Commands that talk to the cluster need SLURM_CONF=DIR/slurm.conf.
# Needs root and Debian's slurm-wlm and munge packages (Slurm 22.05).
set -eu
cmd=$1
dir=$(realpath -m "$2")
export SLURM_CONF="$dir/slurm.conf"

# Sends SIGTERM to the process in pid file $1 and waits (up to 10 s) until
# it has exited.
terminate() {
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

stop() {
    terminate "$dir/run/slurmd.pid"
    terminate "$dir/run/slurmctld.pid"
    if [ -f "$dir/run/started-munged" ]; then
        terminate /run/munge/munged.pid
    fi
    rm -f "$dir/run/started-munged"
}

start() {
    mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
        [ -f /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
        chown -R munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
        chmod 0700 /etc/munge /var/lib/munge /var/log/munge
        chmod 0400 /etc/munge/munge.key
        chmod 0755 /run/munge
        runuser -u munge -- /usr/sbin/munged
        touch "$dir/run/started-munged"
        for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    node=$(hostname -s)
    cat > "$SLURM_CONF" <<CONF
ClusterName=hebbtest
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$node CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    slurmctld
    slurmd
    for _ in $(seq 300); do
        state=$(sinfo -h -o %t 2>/dev/null || true)
        [ "$state" = "idle" ] && return 0
        sleep 0.1
    done
    echo "the test cluster did not become idle (state: ${state:-none}); logs in $dir/log" >&2
    return 1
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
