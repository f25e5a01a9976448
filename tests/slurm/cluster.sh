#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for the SLURM integration test.
#
#   tests/slurm/cluster.sh install   # Debian packages: slurm-wlm, slurmdbd, munge, mariadb-server
#   tests/slurm/cluster.sh start     # configure and start munged, MariaDB, slurmdbd, slurmctld, slurmd
#   tests/slurm/cluster.sh status    # sinfo
#   tests/slurm/cluster.sh stop      # stop everything `start` started
#
# Accounting goes through slurmdbd (MariaDB), so that `sacct` can prove which jobs ran through
# sbatch. Everything runs as root, in the foreground of nothing: daemons are started in the
# background and their pid files kept under $STATE. Needs root (apt, daemons, /etc/slurm).
set -euo pipefail

STATE=${THEORYDL_SLURM_STATE:-/tmp/theorydl-slurm}
CLUSTER=theorydl
ACCOUNT=theorydl
PARTITION=cpu
NODE=$(hostname -s)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { printf '[slurm-cluster] %s\n' "$*" >&2; }

wait_for() {  # wait_for <seconds> <description> <command...>
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$((seconds * 2))"); do
        if "$@" > /dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    log "timed out waiting for $what"
    return 1
}

install() {
    if command -v slurmctld > /dev/null && command -v slurmdbd > /dev/null \
        && command -v munged > /dev/null && command -v mariadbd > /dev/null; then
        return 0
    fi
    log "installing slurm-wlm, slurmdbd, munge, mariadb-server"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends \
        slurm-wlm slurmdbd munge mariadb-server > /dev/null
}

write_config() {
    local cpus mem
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))  # 80% of RAM, MB
    mkdir -p "$STATE"/{ctld,slurmd,log,run} /etc/slurm
    cat > /etc/slurm/slurm.conf <<CONF
# Written by tests/slurm/cluster.sh: a one-node test cluster on localhost.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# Containers have no usable cgroups: track processes by their parent ids.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Check time limits often, so that the retry-on-timeout test does not wait long.
InactiveLimit=0
KillWait=5
OverTimeLimit=0
MinJobAge=300
# Keep the comment (Snakemake puts the rule name there) in accounting, for sacct.
AccountingStoreFlags=job_comment
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
    cat > /etc/slurm/slurmdbd.conf <<CONF
# Written by tests/slurm/cluster.sh.
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
CONF
    chmod 600 /etc/slurm/slurmdbd.conf
}

start() {
    install
    write_config
    if [ ! -s /etc/munge/munge.key ]; then
        $SUDO mungekey --create --keyfile /etc/munge/munge.key 2> /dev/null \
            || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2> /dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge && chown munge:munge /run/munge
    if ! pgrep -x munged > /dev/null; then
        log "starting munged"
        runuser -u munge -- /usr/sbin/munged
    fi
    wait_for 20 munge munge -n

    if ! pgrep -x mariadbd > /dev/null; then
        log "starting MariaDB"
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
        (mysqld_safe --skip-networking=0 --bind-address=127.0.0.1 > "$STATE/log/mariadb.log" 2>&1 &)
    fi
    wait_for 60 MariaDB mysqladmin ping
    mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
              CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
              GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

    if ! pgrep -x slurmdbd > /dev/null; then
        log "starting slurmdbd"
        slurmdbd
    fi
    wait_for 60 slurmdbd sacctmgr -n list cluster
    sacctmgr -i add cluster "$CLUSTER" > /dev/null 2>&1 || true
    sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" \
        description="theorydl-artifact tests" > /dev/null 2>&1 || true
    sacctmgr -i add user "$(id -un)" account="$ACCOUNT" cluster="$CLUSTER" > /dev/null 2>&1 || true

    if ! pgrep -x slurmctld > /dev/null; then
        log "starting slurmctld"
        slurmctld
    fi
    wait_for 60 slurmctld scontrol ping
    if ! pgrep -x slurmd > /dev/null; then
        log "starting slurmd"
        slurmd -N "$NODE"
    fi
    scontrol update nodename="$NODE" state=resume > /dev/null 2>&1 || true
    wait_for 90 "node $NODE to be idle" node_idle
    log "cluster '$CLUSTER' is up: partition $PARTITION, account $ACCOUNT, node $NODE"
}

node_idle() {
    [ "$(sinfo -h -n "$NODE" -o %t | head -1)" = "idle" ]
}

stop() {
    scancel --user="$(id -un)" > /dev/null 2>&1 || true
    for daemon in slurmd slurmctld slurmdbd; do
        pkill -x "$daemon" > /dev/null 2>&1 || true
    done
    mysqladmin shutdown > /dev/null 2>&1 || true
    pkill -x munged > /dev/null 2>&1 || true
    for daemon in slurmd slurmctld slurmdbd mariadbd munged; do
        for _ in $(seq 20); do
            pgrep -x "$daemon" > /dev/null || break
            sleep 0.5
        done
    done
    log "stopped"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) sinfo ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
