#!/usr/bin/env bash
# Creates (or converges) Tapline's topics on a cluster without Strimzi, with the same settings as the KafkaTopic
# resources in deploy/k8s (and io.tapline.topics.TaplineTopics; DeployManifestsTest checks both).
# Idempotent: an existing topic keeps its partitions and gets its configs set again.
#
#   BOOTSTRAP=kafka:9092 ./create-topics.sh                      # kafka-topics.sh / kafka-configs.sh on PATH
#   KAFKA_BIN=/opt/kafka/bin COMMAND_CONFIG=client.properties BOOTSTRAP=kafka:9093 ./create-topics.sh
#
# Partition counts can be raised with PARTITIONS_<TOPIC> (never lowered: Kafka cannot shrink a topic, and
# partitions of keyed topics are best sized once). REPLICATION defaults to 3.
set -euo pipefail

BOOTSTRAP="${BOOTSTRAP:?set BOOTSTRAP to the Kafka bootstrap servers, e.g. kafka:9092}"
REPLICATION="${REPLICATION:-3}"
KAFKA_BIN="${KAFKA_BIN:-}"
topics_cmd="${KAFKA_BIN:+$KAFKA_BIN/}kafka-topics.sh"
configs_cmd="${KAFKA_BIN:+$KAFKA_BIN/}kafka-configs.sh"
client_config=()
if [ -n "${COMMAND_CONFIG:-}" ]; then
  client_config=(--command-config "$COMMAND_CONFIG")
fi

# create_topic NAME PARTITIONS CONFIG...   (each CONFIG is key=value)
create_topic() {
  local name="$1" partitions="$2"
  shift 2
  local config_args=() joined=""
  for kv in "$@"; do
    config_args+=(--config "$kv")
    joined="${joined:+$joined,}$kv"
  done
  "$topics_cmd" --bootstrap-server "$BOOTSTRAP" ${client_config[@]+"${client_config[@]}"} --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor "$REPLICATION" "${config_args[@]}"
  # An existing topic is left as created; make its configs the ones above.
  "$configs_cmd" --bootstrap-server "$BOOTSTRAP" ${client_config[@]+"${client_config[@]}"} --alter \
    --entity-type topics --entity-name "$name" --add-config "$joined"
  echo "topic $name: ready"
}

create_topic tapline.interactions "${PARTITIONS_INTERACTIONS:-12}" \
  cleanup.policy=delete retention.ms=604800000 compression.type=producer max.message.bytes=8388608
create_topic tapline.cases "${PARTITIONS_CASES:-12}" \
  cleanup.policy=compact delete.retention.ms=86400000 min.cleanable.dirty.ratio=0.1 segment.ms=86400000 min.compaction.lag.ms=7200000 max.message.bytes=16777216
create_topic tapline.noise "${PARTITIONS_NOISE:-1}" \
  cleanup.policy=compact min.cleanable.dirty.ratio=0.1 max.message.bytes=16777216
create_topic tapline.results "${PARTITIONS_RESULTS:-12}" \
  cleanup.policy=delete retention.ms=2592000000
create_topic tapline.runs "${PARTITIONS_RUNS:-1}" \
  cleanup.policy=compact
create_topic tapline.dlq "${PARTITIONS_DLQ:-1}" \
  cleanup.policy=delete retention.ms=1209600000 max.message.bytes=17825792
create_topic tapline.unattributed "${PARTITIONS_UNATTRIBUTED:-1}" \
  cleanup.policy=delete retention.ms=259200000
