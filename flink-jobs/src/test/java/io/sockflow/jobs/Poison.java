package io.sockflow.jobs;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.SocketEventWriter;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;

/**
 * Every kind of record the jobs cannot use, as it would arrive on {@code sockflow.events}, with the words its
 * dead-letter reason must contain. Records that decode are made so that, were they let through, they would change
 * the results: each is a socket of its own on the host of the other events, moving bytes between IP endpoints.
 */
public final class Poison {
    /** One poison record: its name (the record's key is {@code poison/<name>}), value, and reason words. */
    public record Kind(String name, byte[] value, String reason) {
        public byte[] key() {
            return ("poison/" + name).getBytes(StandardCharsets.UTF_8);
        }
    }

    static final long NEAR_2_31 = Integer.MAX_VALUE - 8;
    /** A value as large as the broker takes by default (1 MiB less room for the key and Kafka's framing). */
    static final int NEAR_BROKER_LIMIT = 1_040_000;

    private Poison() {}

    /**
     * The poison kinds for events of {@code host}, at about {@code at}; older and other schema versions they need
     * are registered under subjects of {@code topic}.
     */
    public static List<Kind> all(RegistryClient registry, String topic, String host, Instant at) {
        int current = registry.register(topic + "-value", SocketEvent.getClassSchema());
        int older = registry.register(topic + "-poison-older-value", older());
        int extras = registry.register(topic + "-poison-extras-value", withExtras());
        List<Kind> out = new ArrayList<>();
        SocketEvent ok = flowSide(host, at, 9_000_001);
        byte[] body = body(ok);

        out.add(new Kind("tombstone", null, "tombstone"));
        out.add(new Kind("empty", new byte[0], "too short"));
        out.add(new Kind(
                "garbage", "not avro at all: {\"host\":\"x\"}".getBytes(StandardCharsets.UTF_8), "magic byte 110"));
        byte[] magic = framed(current, body);
        magic[0] = 1;
        out.add(new Kind("wrong-magic", magic, "magic byte 1 "));
        out.add(new Kind("truncated", Arrays.copyOf(framed(current, body), 5 + body.length / 2), "undecodable Avro"));
        out.add(new Kind(
                "trailing-bytes", concat(framed(current, body), new byte[] {2, 4, 6}), "3 bytes after the end"));
        Random r = new Random(31);
        byte[] noise = new byte[300];
        r.nextBytes(noise);
        out.add(new Kind("random-bytes", framed(current, noise), "undecodable Avro"));
        out.add(new Kind("unknown-schema-id", framed(987_654, body), "schema id 987654 is not in the registry"));
        out.add(new Kind("negative-schema-id", framed(-7, body), "schema id -7 is not a registry id"));
        // hostile lengths: the fast reader, Avro's resolving reader (an older version), and a writer with arrays
        out.add(new Kind(
                "string-length-2^31", framed(current, concat(varint(NEAR_2_31), body)), "a length of " + NEAR_2_31));
        out.add(new Kind("negative-length", framed(current, concat(varint(-3), body)), "a length of -3"));
        out.add(new Kind(
                "string-length-2^31-older-schema",
                framed(older, concat(varint(NEAR_2_31), body)),
                "a length of " + NEAR_2_31));
        out.add(new Kind(
                "array-length-2^31",
                framed(extras, concat(body, varint(NEAR_2_31), varint(7))),
                "a block of " + NEAR_2_31 + " items"));
        out.add(new Kind(
                "null-array-length-2^31",
                framed(extras, concat(body, new byte[] {0}, varint(NEAR_2_31), new byte[] {0})),
                "array items that take no bytes"));
        // decodable, and wrong
        SocketEvent big = flowSide(host, at, 9_000_002);
        big.setComm("A".repeat(NEAR_BROKER_LIMIT - body.length - 5));
        out.add(new Kind("oversized", framed(current, body(big)), "more than input.max-event-bytes"));
        SocketEvent future = flowSide(host, Instant.now().plusSeconds(100L * 365 * 86_400), 9_000_003);
        out.add(new Kind("far-future-timestamp", framed(current, body(future)), "ahead of this job's clock"));
        SocketEvent absurd = flowSide(host, Instant.ofEpochSecond(Long.MAX_VALUE / 1_000_000), 9_000_004);
        out.add(new Kind("absurd-timestamp", framed(current, body(absurd)), "ahead of this job's clock"));
        SocketEvent past = flowSide(host, Instant.ofEpochSecond(-86_400), 9_000_005);
        out.add(new Kind("before-1970", framed(current, body(past)), "before 1970"));
        SocketEvent name = flowSide(host, at, 9_000_006);
        name.setLocalAddress("1evil.example"); // starts with a digit: a lookup once
        out.add(new Kind(
                "address-is-a-name",
                framed(current, body(name)),
                "localAddress \"1evil.example\" is not an IP address"));
        SocketEvent text = flowSide(host, at, 9_000_007);
        text.setRemoteAddress("not an address\u001b[2J");
        out.add(new Kind(
                "address-is-text",
                framed(current, body(text)),
                "remoteAddress \"not an address\\u001b[2J\" is not an IP address"));
        SocketEvent sockaddr = flowSide(host, at, 9_000_008);
        sockaddr.setKind(EventKind.CONNECT);
        sockaddr.setSockaddrFamily("AF_INET");
        sockaddr.setSockaddrAddress("999.0.0.1");
        sockaddr.setSockaddrPort(80);
        out.add(new Kind(
                "sockaddr-out-of-range",
                framed(current, body(sockaddr)),
                "sockaddrAddress \"999.0.0.1\" is not an IP address"));
        SocketEvent port = flowSide(host, at, 9_000_009);
        port.setLocalPort(70_000);
        out.add(new Kind("port-out-of-range", framed(current, body(port)), "localPort 70000 is not a port"));
        return out;
    }

    /** A TCP send on a socket of its own between two IP endpoints: a flow side, were it let through. */
    static SocketEvent flowSide(String host, Instant at, long inode) {
        SocketEvent e = Ev.of(EventKind.SOCK_SEND, 4242, "poison", 0)
                .socket(inode)
                .tcp()
                .local("10.9.8.7", 45_000)
                .remote("10.9.8.6", 443)
                .bytes(1234)
                .get();
        e.setHost(host);
        e.setTimestamp(at);
        return e;
    }

    /** SocketEvent without its last field (which has a default): an older version, read by Avro's resolving reader. */
    static Schema older() {
        Schema current = SocketEvent.getClassSchema();
        return record(current.getFields().subList(0, current.getFields().size() - 1), List.of());
    }

    /** SocketEvent with an array of longs and an array of nulls after its fields: the reader skips them. */
    static Schema withExtras() {
        return record(
                SocketEvent.getClassSchema().getFields(),
                List.of(
                        new Schema.Field(
                                "extraLongs", Schema.createArray(Schema.create(Schema.Type.LONG)), null, List.of()),
                        new Schema.Field(
                                "extraNulls", Schema.createArray(Schema.create(Schema.Type.NULL)), null, List.of())));
    }

    private static Schema record(List<Schema.Field> fields, List<Schema.Field> more) {
        Schema current = SocketEvent.getClassSchema();
        List<Schema.Field> all = new ArrayList<>();
        fields.forEach(f -> all.add(new Schema.Field(f.name(), f.schema(), f.doc(), f.defaultVal())));
        all.addAll(more);
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, all);
    }

    static byte[] body(SocketEvent e) {
        AvroBinaryBuffer out = new AvroBinaryBuffer(256);
        SocketEventWriter.write(e, out);
        return out.toByteArray();
    }

    static byte[] framed(int id, byte[] body) {
        return concat(
                new byte[] {ConfluentAvro.MAGIC},
                ByteBuffer.allocate(4).putInt(id).array(),
                body);
    }

    static byte[] varint(long v) {
        AvroBinaryBuffer b = new AvroBinaryBuffer(10);
        b.writeLong(v);
        return b.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
