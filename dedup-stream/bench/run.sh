#!/usr/bin/env bash
# Dedup throughput benchmark: loads realistic interactions into a real broker and measures interactions/s through
# the dedup topology vs a pass-through Streams topology with the same serde, broker and input, in one run.
#   dedup-stream/bench/run.sh [--interactions 1000000] [--routes 200] [--threads 2] [--zipf 1.0]
#                             [--bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v7]
# Without --bootstrap it starts its own broker and registry (deploy module) on free loopback ports.
# Needs: mvn -o -pl dedup-stream test-compile (and the deploy module installed).
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE=target/bench.classpath
if [[ ! -f "$CP_FILE" || pom.xml -nt "$CP_FILE" ]]; then
  mvn -o -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >/dev/null
fi
exec java -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/classes:target/test-classes:$(cat "$CP_FILE")" io.tapline.dedup.bench.DedupBenchmark "$@"
