#!/usr/bin/env bash
# Sustained load for a memory soak of a running dedup job: fresh interactions (routes x shapes distinct signatures,
# JSON bodies of a few KiB) written to its input topic for --minutes. See SoakLoad's javadoc for the options.
#   dedup-stream/bench/soak-load.sh --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v7 \
#       [--minutes 25] [--rate 0] [--routes 2000] [--shapes 250] [--min-kib 2] [--max-kib 8] [--partitions 12] \
#       [--retention-ms 600000] [--seed 11]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -o -q -B -pl dedup-stream -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench.classpath >/dev/null
cd dedup-stream
exec java -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" io.tapline.dedup.bench.SoakLoad "$@"
