#!/usr/bin/env bash
# Cases and a candidate for a memory soak of the replay worker (deploy/README.md, Replay worker memory): writes N
# cases of about 23 KiB (POST bodies 2-8 KiB, JSON answers 4-32 KiB, one dependency call each), and serves a candidate
# that answers them through the worker's mock. See SoakLoad's javadoc for the options.
#   replay-worker/bench/soak-load.sh write --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v7 \
#       [--cases 70000] [--from 0] [--seed 7] [--topic tapline.cases]
#   replay-worker/bench/soak-load.sh candidate --mock-port 9190 [--port 8081] [--seed 7] [--event-loops 2]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -o -q -B -pl replay-worker -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench.classpath >/dev/null
cd replay-worker
exec java -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" io.tapline.replay.bench.SoakLoad "$@"
