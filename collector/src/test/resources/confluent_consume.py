"""Reads a sockflow topic with Confluent's own Python client and prints each decoded value as one JSON line.

usage: confluent_consume.py BOOTSTRAP REGISTRY_URL TOPIC COUNT TIMEOUT_S
Keys are plain strings (host/socket), so a plain Consumer reads the records and the registry-backed
MessageSerializer decodes the values, as Confluent's Avro consumer does.
"""
import base64
import datetime
import json
import sys
import time
import uuid

from confluent_kafka import Consumer
from confluent_kafka.avro.cached_schema_registry_client import CachedSchemaRegistryClient
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer


def plain(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    raise TypeError(type(v))


def main():
    bootstrap, registry, topic, count, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-" + str(uuid.uuid4()),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    serializer = MessageSerializer(CachedSchemaRegistryClient({"url": registry}))
    n = 0
    deadline = time.time() + timeout
    while n < count and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            print("error: %s" % m.error(), file=sys.stderr)
            continue
        value = serializer.decode_message(m.value())
        print(json.dumps({"key": m.key().decode(), "value": value}, default=plain))
        n += 1
    consumer.close()
    return 0 if n >= count else 1


if __name__ == "__main__":
    sys.exit(main())
