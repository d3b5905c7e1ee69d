#!/usr/bin/python3
"""A third-party Confluent-format client (confluent-kafka-python's AvroProducer/AvroConsumer) used by
ThirdPartyClientIT to prove wire-format compatibility with Tapline's serde.

  confluent_peer.py consume BOOTSTRAP REGISTRY_URL TOPIC COUNT   -> prints one JSON object per decoded record
  confluent_peer.py produce BOOTSTRAP REGISTRY_URL TOPIC SCHEMA_FILE RECORD_JSON_FILE
"""
import base64
import datetime
import json
import sys

from confluent_kafka import avro
from confluent_kafka.avro import AvroConsumer, AvroProducer


def to_json(value):
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime.datetime):
        return {"$millis": int(value.timestamp() * 1000)}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def from_json(value):
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        if set(value) == {"$millis"}:
            return datetime.datetime.fromtimestamp(value["$millis"] / 1000, tz=datetime.timezone.utc)
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def consume(bootstrap, registry, topic, count):
    consumer = AvroConsumer({
        "bootstrap.servers": bootstrap,
        "schema.registry.url": registry,
        "group.id": "confluent-peer-" + topic,
        "auto.offset.reset": "earliest",
    })
    consumer.subscribe([topic])
    seen = 0
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
    while seen < count and datetime.datetime.now() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            raise SystemExit("consume error: %s" % msg.error())
        print(json.dumps(to_json(msg.value()), sort_keys=True))
        seen += 1
    consumer.close()
    if seen < count:
        raise SystemExit("only %d of %d records consumed from %s" % (seen, count, topic))


def produce(bootstrap, registry, topic, schema_file, record_file):
    with open(schema_file) as f:
        schema = avro.loads(f.read())
    with open(record_file) as f:
        record = from_json(json.load(f))
    producer = AvroProducer({"bootstrap.servers": bootstrap, "schema.registry.url": registry},
                            default_value_schema=schema)
    producer.produce(topic=topic, value=record)
    if producer.flush(30) != 0:
        raise SystemExit("record not delivered to %s" % topic)


if __name__ == "__main__":
    if sys.argv[1] == "consume":
        consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        raise SystemExit("usage: confluent_peer.py consume|produce ...")
