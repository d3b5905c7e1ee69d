#!/usr/bin/env bash
# Replay throughput vs the candidate's capacity measured by wrk, in the same run (loopback only, a few minutes).
#   replay-worker/bench/run.sh [-Dbench.cases=5000] [-Dbench.concurrency=32] [-Dbench.workers=1] [-Dbench.batch=2000]
#                              [-Dbench.warm.runs=2] [-Dbench.wrk.seconds=10] [-Dbench.replay.args='--kafka.producer.linger.ms=5']
# Needs wrk (apt-get install -y wrk); builds the modules it needs from this tree (-am). Figures are
# printed and written to replay-worker/target/bench-result.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 2; }
mvn -o -B -q -pl replay-worker -am verify -DskipTests=false -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test=ReplayBenchmark -Dfailsafe.failIfNoSpecifiedTests=false "$@"
cat replay-worker/target/bench-result.txt
