#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a controller on a SQLite file and one
# local agent on loopback, runs the default suite, prints the results table, shuts both down.
#   bash controller/quickstart.sh [SUITE_FILE]
# Leaves the database (and logs) in $FAULTLINE_WORKDIR (default: a new /tmp/faultline-* dir).
set -euo pipefail
cd "$(dirname "$0")/.."
suite="${1:-controller/suites/default.textproto}"

bash bazel/install_deps.sh
bazel build -c opt //controller:faultline-controller //controller/cli:faultlinectl \
  //agent:faultline-agent
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"

workdir="${FAULTLINE_WORKDIR:-$(mktemp -d /tmp/faultline-XXXXXX)}"
mkdir -p "$workdir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# One box, loopback only: plaintext is asked for explicitly (a fleet uses TLS, docs/security.md).
"$bin/controller/faultline-controller" --listen=127.0.0.1:0 --plaintext \
  --metrics_listen=127.0.0.1:0 --db="$workdir/faultline.db" \
  --port_file="$workdir/controller.port" 2>"$workdir/controller.log" &
pids+=($!)
for _ in $(seq 1 100); do [[ -s "$workdir/controller.port" ]] && break; sleep 0.1; done
[[ -s "$workdir/controller.port" ]] || { cat "$workdir/controller.log" >&2; exit 1; }
address="127.0.0.1:$(cat "$workdir/controller.port")"

"$bin/agent/faultline-agent" --controller="$address" --plaintext --agent_id="$(hostname)-local" \
  --spool_dir="$workdir/spool" 2>"$workdir/agent.log" &
pids+=($!)
ctl() { "$bin/controller/cli/faultlinectl" --controller="$address" --plaintext "$@"; }
for _ in $(seq 1 100); do
  ctl agents 2>/dev/null | grep -q -- "-local" && break
  sleep 0.2
done
ctl agents

echo "faultline: running $suite (controller $address, store $workdir/faultline.db)" >&2
ctl submit "$suite" --wait
