#!/usr/bin/env bash
# Dedup throughput benchmark: loads realistic interactions into a real broker and measures interactions/s through
# the dedup topology vs a pass-through Streams topology with the same serde, broker and input, in one run.
#   dedup-stream/bench/run.sh [--interactions 1000000] [--routes 200] [--threads 2] [--zipf 1.0]
#                             [--bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v7]
# Without --bootstrap it starts its own broker and registry (deploy module) on free loopback ports.
# Compiles dedup-stream and the modules it depends on first, in one reactor build, so the class path names their
# target/classes as built from this checkout (not copies installed in ~/.m2 earlier, which would measure older code).
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -o -q -B -pl dedup-stream -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench.classpath >/dev/null
cd dedup-stream
CP_FILE=target/bench.classpath
exec java -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/classes:target/test-classes:$(cat "$CP_FILE")" io.tapline.dedup.bench.DedupBenchmark "$@"
