#!/usr/bin/env bash
# A real Slurm cluster of one node, on this machine, running
# examples/slurm/sweep.sbatch: the test of the job array launcher.
#
#   scripts/slurm-test/run.sh [--postgres] [--bin PATH] [--spec SPEC]
#
# It starts munged with a key of its own, slurmctld and slurmd with a
# slurm.conf of their own (all in a temporary directory, on free ports,
# nothing in /etc touched), then:
#
#  1. submits the sweep of SPEC (default: a 12-trial grid on the embedded
#     data) as an array of 4 tasks of 1 CPU, and checks that every task
#     exited 0 and every trial was trained to the end exactly once (one
#     "trial N done" line over all the tasks' logs, one attempt each);
#  2. submits a second sweep and, while each task trains a trial, stops 3
#     of the tasks each way Slurm stops one: the time limit's USR1 (task 1
#     checkpoints, requeues itself, comes back), scancel (task 2
#     checkpoints and is gone), a requeue from outside as preemption does
#     (task 3 checkpoints, Slurm starts it again). Every trial is still
#     done exactly once, the 3 interrupted ones in two attempts, resumed
#     from their checkpoints.
#
# Then it stops the daemons and removes the directory, on failure too
# (KEEP=1 keeps the directory, with every log, for a look). About a
# minute on 2 cores (45-70 s).
#
# The database: $SWEEP_DB (a PostgreSQL connection string; SPEC's sweep
# must not be in it yet, the default sweeps get fresh names), else with
# --postgres a throwaway PostgreSQL server started here (initdb and pg_ctl
# of Debian's postgresql package, run as nobody), used through the two
# roles of examples/slurm/README.md with their privileges and no more
# (phase 1 as sweep, which creates the tables; phase 2 as sweep_worker,
# which may only use them), their passwords in a PGPASSFILE and not in the
# URL; else a bbolt file in the
# temporary directory (every task runs on this one node, so they can
# share a file).
#
# The binary: --bin, else $SWEEP_BIN, else bin/sweep (make build).
#
# Needs root (munged, slurmctld and slurmd run as root here) and Debian's
# slurm-wlm and munge, and postgresql for --postgres:
#   apt-get install -y --no-install-recommends slurm-wlm munge postgresql
set -euo pipefail
# The daemons, and runuser, are in sbin.
export PATH=$PATH:/usr/sbin:/sbin

repo=$(cd "$(dirname "$0")/../.." && pwd)
sbatch_script=$repo/examples/slurm/sweep.sbatch
bin=${SWEEP_BIN:-$repo/bin/sweep}
spec=${SPEC:-}
use_pg=0
while (($#)); do
	case $1 in
	--postgres) use_pg=1 ;;
	--bin) bin=$2; shift ;;
	--bin=*) bin=${1#*=} ;;
	--spec) spec=$2; shift ;;
	--spec=*) spec=${1#*=} ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

log() { printf '[slurm-test %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (munged, slurmctld and slurmd run here)"
for c in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel sinfo python3; do
	command -v "$c" >/dev/null || die "$c not found: apt-get install -y --no-install-recommends slurm-wlm munge python3"
done
[[ -x $bin ]] || die "$bin: no sweep binary (make build, or --bin PATH)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
if [[ -n $spec ]]; then
	[[ -r $spec ]] || die "$spec: cannot read the spec"
	spec=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")
fi
if ((use_pg)) && [[ -n ${SWEEP_DB:-} ]]; then
	die "--postgres starts a database of its own: unset SWEEP_DB"
fi

start_time=$(date +%s)
# Searchable by all down to munged's socket (munged refuses a socket in a
# directory others cannot search), and by postgres, which runs as nobody;
# the munge key in a directory of root's alone.
tmp=$(mktemp -d /tmp/sweep-slurm-test.XXXXXX)
chmod 755 "$tmp"
host=$(hostname -s)
conf=$tmp/slurm.conf
mkdir -p "$tmp"/{munge,munge-key,state,spool/"$host",log,run,out,work}
chmod 700 "$tmp/munge-key"

# Every Slurm command sees this cluster alone. The harness's own
# environment does not carry SLURM_CONF; its jobs' does.
sl() { SLURM_CONF=$conf "$@"; }

ctld_pid='' slurmd_pid='' pg_bin='' jobs=()
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if ((${#jobs[@]})); then
		sl scancel "${jobs[@]}" 2>/dev/null
		for _ in {1..20}; do
			[[ -z $(sl squeue -h 2>/dev/null) ]] && break
			sleep 0.5
		done
	fi
	# What is left of the jobs' processes, by the marker in their
	# environment.
	local pids=() p
	for p in /proc/[0-9]*; do
		[[ ${p#/proc/} == "$$" ]] && continue
		tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "SWEEP_SLURM_TEST=$tmp" && pids+=("${p#/proc/}")
	done
	((${#pids[@]})) && kill -KILL "${pids[@]}" 2>/dev/null
	[[ -n $slurmd_pid ]] && kill "$slurmd_pid" 2>/dev/null && wait "$slurmd_pid" 2>/dev/null
	[[ -n $ctld_pid ]] && kill "$ctld_pid" 2>/dev/null && wait "$ctld_pid" 2>/dev/null
	[[ -S $tmp/munge/munge.socket ]] && munged --stop --socket="$tmp/munge/munge.socket" >/dev/null 2>&1
	[[ -f $tmp/pg/data/postmaster.pid ]] &&
		runuser -u nobody -- "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1
	if ((rc != 0)); then
		for f in "$tmp"/log/*.log "$tmp"/pg/*.log "$tmp"/out/*.out; do
			[[ -s $f ]] || continue
			log "--- the last lines of $f"
			tail -n 25 "$f" >&2
		done
	fi
	if [[ ${KEEP:-} == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	log "$( ((rc == 0)) && echo PASS || echo "FAIL (exit $rc)") in $(($(date +%s) - start_time)) s"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds, or fail.
wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$(($(date +%s) + secs))
	until "$@"; do
		(($(date +%s) < deadline)) || die "$what: not after ${secs} s"
		sleep 0.5
	done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p=$1
	while ! port_free "$p"; do p=$((p + 1)); done
	echo "$p"
}

# --- munge: a key of our own, a socket of our own.
mungekey --create --keyfile="$tmp/munge-key/munge.key" --bits=1024
munged --key-file="$tmp/munge-key/munge.key" --socket="$tmp/munge/munge.socket" \
	--pid-file="$tmp/run/munged.pid" --log-file="$tmp/log/munged.log" \
	--seed-file="$tmp/run/munged.seed" ||
	die "munged did not start: $(tail -n 3 "$tmp/log/munged.log" 2>/dev/null)"

# --- slurm: one node, this host, up to 4 jobs sharing each CPU.
ctld_port=$(free_port 6817)
slurmd_port=$(free_port $((ctld_port + 1)))
cpus=$(nproc)
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
cat >"$conf" <<EOF
ClusterName=sweeptest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
# Our munged, and how long a requeued job waits before it may start again
# (the credential's lifetime: 120 s by default).
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket,cred_expire=10
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/%n
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
# No cgroups (none can be delegated in this container): processes are
# tracked by parentage, and tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
# Finished jobs stay in scontrol show job, for the checks.
MinJobAge=3600
KillWait=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
SLURM_CONF=$conf slurmctld -D -f "$conf" >"$tmp/log/slurmctld.out" 2>&1 &
ctld_pid=$!
ctld_up() { sl scontrol ping >/dev/null 2>&1; }
wait_for 30 "slurmctld answering" ctld_up
SLURM_CONF=$conf slurmd -D -N "$host" -f "$conf" >"$tmp/log/slurmd.out" 2>&1 &
slurmd_pid=$!
node_idle() { [[ $(sl sinfo -h -n "$host" -o %t 2>/dev/null) == idle ]]; }
wait_for 60 "node $host idle in sinfo" node_idle
log "cluster up: node $host, $cpus CPUs, slurmctld :$ctld_port, slurmd :$slurmd_port"
log "binary: $bin, $("$bin" version 2>&1 | head -n 1)"

# --- the database.
if ((use_pg)); then
	pg_bins=(/usr/lib/postgresql/*/bin) # the highest version
	pg_bin=$(printf '%s\n' "${pg_bins[@]}" | sort -V | tail -n 1)
	[[ -x $pg_bin/initdb ]] || die "no PostgreSQL server: apt-get install -y postgresql"
	# postgres refuses to run as root: nobody owns its directory.
	mkdir -p "$tmp/pg"
	chown nobody "$tmp/pg"
	pw() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
	admin_pw=$(pw) sweep_pw=$(pw) worker_pw=$(pw)
	(umask 077 && printf '%s\n' "$admin_pw" >"$tmp/pg/pwfile")
	chown nobody "$tmp/pg/pwfile"
	runuser -u nobody -- "$pg_bin/initdb" -D "$tmp/pg/data" -U postgres --pwfile="$tmp/pg/pwfile" \
		--auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$tmp/log/initdb.log" 2>&1 ||
		die "initdb: $(tail -n 3 "$tmp/log/initdb.log")"
	rm -f "$tmp/pg/pwfile"
	runuser -u nobody -- "$pg_bin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/postgres.log" -w \
		-o "-c listen_addresses='' -c unix_socket_directories=$tmp/pg -c fsync=off" start >/dev/null ||
		die "postgres did not start"
	# The role of examples/slurm/README.md: it can connect, and create its
	# tables in the schema (the first run does); nothing more.
	PGPASSWORD=$admin_pw psql -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg" -U postgres -d postgres <<EOF
CREATE DATABASE sweeps;
CREATE ROLE sweep LOGIN PASSWORD '$sweep_pw';
REVOKE ALL ON DATABASE sweeps FROM PUBLIC;
GRANT CONNECT ON DATABASE sweeps TO sweep;
\c sweeps
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO sweep;
EOF
	# Passwords in a PGPASSFILE, not in the URL; the jobs inherit it.
	(umask 077 && printf '*:*:sweeps:sweep:%s\n*:*:sweeps:sweep_worker:%s\n' "$sweep_pw" "$worker_pw" >"$tmp/pgpass")
	export PGPASSFILE=$tmp/pgpass
	db="postgres://sweep@/sweeps?host=$tmp/pg"
	log "database: a throwaway PostgreSQL $("$pg_bin/postgres" -V | awk '{print $3}'), as role sweep: $db (password in \$PGPASSFILE)"
elif [[ -n ${SWEEP_DB:-} ]]; then
	db=$SWEEP_DB
	log "database: \$SWEEP_DB"
else
	db=$tmp/sweep.db
	log "database: $db (bbolt; --postgres or SWEEP_DB=postgres://... for PostgreSQL)"
fi

# sweep_json ARGS...: a query command's JSON. The connection string goes
# in the environment, never on a command line (ps shows those).
sweep_json() { SWEEP_DB=$db "$bin" "$@" --format json; }

# spec_file NAME ITERATIONS FILE [SEARCH]: a grid of 12 trials on the
# embedded data; SEARCH, more [search] keys.
spec_file() {
	cat >"$3" <<EOF
name = "$1"
seed = 1
[data]
source = "embedded"
[model]
hidden = [50]
[train]
iterations = $2
batch_size = 200
[search]
method = "grid"
metric = "val_acc"
${4:-}
[search.params]
learning_rate = [5e-4, 1e-3, 2e-3]
reg = [0.0, 0.01, 0.1, 0.25]
EOF
}

# submit SPEC: submits the array of 4 one-CPU tasks; its id in $job. The
# time limit is far enough for its USR1, 5 minutes before, not to come
# during the test.
submit() {
	job=$(cd "$tmp/work" && env SWEEP_SLURM_TEST="$tmp" SWEEP_BIN="$bin" SWEEP_DB="$db" SLURM_CONF="$conf" \
		sbatch --parsable --array=0-3 --cpus-per-task=1 --mem=256M --time=60 \
		--output="$tmp/out/%A_%a.out" "$sbatch_script" "$1") || die "sbatch failed"
	jobs+=("$job")
}

array_done() { [[ -z $(sl squeue -h -j "$1" 2>/dev/null) ]]; }

# check_array JOB WANT...: the array's tasks ended as WANT says, one
# STATE:EXITCODE:RESTARTS per task (COMPLETED:0:0: exited 0, never
# requeued), and each task's log ends with sweep's exit code.
check_array() {
	local job=$1 f
	shift
	sl scontrol -o show job "$job" >"$tmp/job-$job.txt"
	python3 - "$tmp/job-$job.txt" "$@" <<'EOF' || return 1
import sys
want = [w.split(":") for w in sys.argv[2:]]
tasks = {}
for line in open(sys.argv[1]):
    if "ArrayTaskId=" in line:
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        tasks[int(f["ArrayTaskId"])] = f
bad = []
if sorted(tasks) != list(range(len(want))):
    bad.append(f"array tasks {sorted(tasks)}, want 0-{len(want) - 1}")
for i, (state, code, restarts) in enumerate(want):
    if i in tasks:
        f = tasks[i]
        got = (f["JobState"], f["ExitCode"].split(":")[0], f.get("Restarts", "0"))
        if got != (state, code, restarts):
            bad.append(f"task {i}: {got[0]}, exit code {got[1]}, {got[2]} restarts; want {state}, {code}, {restarts}")
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
	for f in "$tmp"/out/"$job"_*.out; do
		tail -n 1 "$f" | grep -q "sweep exited" || { log "  $f does not end with sweep's exit"; return 1; }
	done
}

# check_once NAME JOB INTERRUPTED: every trial of sweep NAME is done, and
# finished once over the tasks' logs, in one attempt, INTERRUPTED of them
# in two.
check_once() {
	sweep_json export "$1" >"$tmp/export-$1.json" || die "sweep export $1"
	python3 - "$tmp/export-$1.json" "$3" "$tmp"/out/"$2"_*.out <<'EOF'
import collections, json, re, sys
trials = json.load(open(sys.argv[1]))
interrupted = int(sys.argv[2])
bad = []
if not trials:
    bad.append("no trials")
not_done = [t["trial"] for t in trials if t["status"] != "done"]
if not_done:
    bad.append(f"trials not done: {not_done}")
finished = collections.Counter()
for path in sys.argv[3:]:
    for line in open(path):
        m = re.search(r"\] trial (\d+) (done|failed|diverged)\b", line)
        if m:
            finished[int(m.group(1))] += 1
nums = sorted(t["trial"] for t in trials)
if sorted(finished) != nums or any(n != 1 for n in finished.values()):
    bad.append(f"finished lines per trial {dict(sorted(finished.items()))}, want one for each of {nums}")
attempts = sorted(t["attempts"] for t in trials)
want = [1] * (len(trials) - interrupted) + [2] * interrupted
if attempts != want:
    bad.append(f"attempts {attempts}, want {want}")
for b in bad:
    print("  " + b, file=sys.stderr)
counts = ", ".join(f"{n} in {a}" for a, n in sorted(collections.Counter(attempts).items()))
print(f"  {len(trials)} trials done, each finished once; attempts: {counts}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# Names no earlier run used: the database may be shared.
stamp=$(date +%Y%m%d-%H%M%S)-$$

# --- 1: an array of 4 tasks trains a sweep; each exits 0.
if [[ -n $spec ]]; then
	name=$(sed -n 's/^name *= *"\([^"]*\)".*/\1/p' "$spec" | head -n 1)
	[[ -n $name ]] || die "$spec: no name = \"...\" line"
	spec1=$spec
else
	name=slurm-test-$stamp
	spec1=$tmp/work/$name.toml
	# Four fused groups of 3 trials: one for each task.
	spec_file "$name" 1500 "$spec1" "group_size = 3"
fi
has_sweep() {
	sweep_json ls 2>/dev/null |
		python3 -c 'import json, sys; sys.exit(0 if any(s["name"] == sys.argv[1] for s in json.load(sys.stdin)) else 1)' "$1" 2>/dev/null
}
if has_sweep "$name"; then
	die "sweep $name is in the database already: the test needs a new one"
fi
t0=$(date +%s)
submit "$spec1"
log "1: array $job, 4 tasks, training sweep $name"
wait_for 900 "array $job done" array_done "$job"
check_array "$job" COMPLETED:0:0 COMPLETED:0:0 COMPLETED:0:0 COMPLETED:0:0 ||
	die "array $job: not every task completed with exit code 0"
check_once "$name" "$job" 0 || die "sweep $name: not every trial trained exactly once"
log "1: ok in $(($(date +%s) - t0)) s: the 4 tasks exited 0"

# With --postgres, phase 2 runs as a second role that the first (the
# tables' owner) granted what examples/slurm/README.md grants a role that
# uses the tables but may not create or alter any.
if ((use_pg)); then
	PGPASSWORD=$admin_pw psql -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg" -U postgres -d sweeps <<EOF
CREATE ROLE sweep_worker LOGIN PASSWORD '$worker_pw';
GRANT CONNECT ON DATABASE sweeps TO sweep_worker;
GRANT USAGE ON SCHEMA public TO sweep_worker;
SET ROLE sweep;
GRANT SELECT ON sweep_schema TO sweep_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON sweep_sweeps, sweep_trials, sweep_histories,
	sweep_checkpoints, sweep_models, sweep_decisions TO sweep_worker;
EOF
	db="postgres://sweep_worker@/sweeps?host=$tmp/pg"
	log "2: as role sweep_worker (no CREATE, DML on the tables): $db"
fi

# --- 2: while every task trains a trial, each way Slurm stops a task:
#  task 1: the USR1 of sbatch --signal=B:USR1@... before the time limit:
#          the script stops sweep (SIGTERM), which checkpoints and gives
#          its trial back, then requeues the task, which comes back;
#  task 2: scancel: SIGTERM to every process of the task; sweep
#          checkpoints and gives its trial back; the task is gone (143);
#  task 3: a requeue from outside, as preemption (PreemptMode=REQUEUE) and
#          a failed node's --requeue do: SIGTERM as for task 2, then Slurm
#          starts the task again.
# The tasks still running, or 1 and 3 back, resume the 3 trials from their
# checkpoints.
name=slurm-test-$stamp-stops
# Each trial on its own (fuse = false): 4 of the 12 running, one per task.
spec_file "$name" 4000 "$tmp/work/$name.toml" "fuse = false"
t0=$(date +%s)
submit "$tmp/work/$name.toml"
log "2: array $job, 4 tasks, training sweep $name"
all_training() {
	sweep_json ls 2>/dev/null | python3 -c '
import json, sys
s = [s for s in json.load(sys.stdin) if s["name"] == sys.argv[1]]
sys.exit(0 if s and s[0]["running"] >= 4 else 1)' "$name"
}
wait_for 120 "4 trials running" all_training
sl scancel --batch --signal=USR1 "${job}_1" || die "scancel --batch --signal=USR1 ${job}_1"
sl scancel "${job}_2" || die "scancel ${job}_2"
sl scontrol requeue "${job}_3" || die "scontrol requeue ${job}_3"
log "2: sent task 1 the time limit's USR1, cancelled task 2, requeued task 3"
wait_for 900 "array $job done" array_done "$job"
for i in 1 2 3; do
	out=$tmp/out/${job}_$i.out
	grep -q "stopped by SIGTERM" "$out" || die "task $i: sweep did not stop on SIGTERM"
	grep -q "resumes from a checkpoint" "$out" || die "task $i: its trial was not checkpointed"
done
grep -q "time limit near" "$tmp/out/${job}_1.out" || die "task 1 did not see the USR1"
grep -q "requeueing" "$tmp/out/${job}_1.out" || die "task 1 did not requeue itself"
for i in 1 3; do
	(($(grep -c "sweep.sbatch.*: start on" "$tmp/out/${job}_$i.out") == 2)) || die "task $i did not run twice"
done
check_array "$job" COMPLETED:0:0 COMPLETED:0:1 CANCELLED:143:0 COMPLETED:0:1 ||
	die "array $job: the tasks did not end as they should"
check_once "$name" "$job" 3 || die "sweep $name: not every trial trained exactly once"
log "2: ok in $(($(date +%s) - t0)) s: 3 tasks stopped, their trials checkpointed and resumed elsewhere; 2 came back and exited 0"
