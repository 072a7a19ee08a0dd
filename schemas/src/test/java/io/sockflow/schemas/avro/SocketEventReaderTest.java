package io.sockflow.schemas.avro;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.SocketEvent;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/** The hand-written reader against Avro's writer and the hand-written one, and on malformed input. */
class SocketEventReaderTest {
    static byte[] avroBytes(SocketEvent e) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(SocketEvent.getClassSchema()).write(e, enc);
        enc.flush();
        return out.toByteArray();
    }

    @Test
    void readsBackEveryFieldOfWhatAvroWrites() throws Exception {
        Random r = new Random(11);
        AvroBinaryInput in = new AvroBinaryInput(); // one input for all: its string cache carries over
        for (int i = 0; i < 5_000; i++) {
            SocketEvent e = SocketEventWriterTest.random(r);
            byte[] b = avroBytes(e);
            // framed as on Kafka: the record does not start at 0 and is followed by other bytes
            byte[] framed = new byte[b.length + 9];
            System.arraycopy(b, 0, framed, 5, b.length);
            assertEquals(e, SocketEventReader.read(in.reset(framed, 5, b.length)), "event " + i);
        }
    }

    @Test
    void malformedRecordsAreRefusedNotMisread() throws Exception {
        Random r = new Random(5);
        AvroBinaryInput in = new AvroBinaryInput();
        int refused = 0;
        for (int i = 0; i < 2_000; i++) {
            byte[] b = avroBytes(SocketEventWriterTest.random(r));
            // cut short anywhere: always refused
            byte[] cut = Arrays.copyOf(b, r.nextInt(b.length));
            assertThrows(IllegalArgumentException.class, () -> SocketEventReader.read(in.reset(cut, 0, cut.length)));
            // trailing bytes: refused
            byte[] longer = Arrays.copyOf(b, b.length + 1);
            assertThrows(
                    IllegalArgumentException.class, () -> SocketEventReader.read(in.reset(longer, 0, longer.length)));
            // a flipped byte: refused, or read as some other record, never an error of another kind
            byte[] flipped = b.clone();
            flipped[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
            try {
                SocketEventReader.read(in.reset(flipped, 0, flipped.length));
            } catch (IllegalArgumentException expected) {
                refused++;
            }
        }
        assertTrue(refused > 0);
        assertThrows(IllegalArgumentException.class, () -> in.reset(new byte[4], 2, 3));
    }

    @Test
    void hotStringsThatShareACacheSetAreAllKept() {
        // "web-1" and "curl" land in the same set of the string cache; "x0".."x9" fill others
        AvroBinaryBuffer out = new AvroBinaryBuffer(64);
        for (String s : new String[] {"web-1", "curl", "web-1", "curl"}) {
            out.writeString(new String(s)); // fresh instances: the writer's identity cache does not help
        }
        byte[] b = out.toByteArray();
        AvroBinaryInput in = new AvroBinaryInput();
        in.reset(b, 0, b.length);
        String host = in.readString();
        String comm = in.readString();
        assertSame(host, in.readString(), "the host is kept though the process name came after it");
        assertSame(comm, in.readString());
        assertTrue(in.atEnd());
        // a third string in the same set evicts the least recently used of the two, and reading stays right
        AvroBinaryBuffer more = new AvroBinaryBuffer(64);
        for (int i = 0; i < 300; i++) {
            more.writeString("s" + (i % 3 == 0 ? "web-1" : i % 3 == 1 ? "curl" : "x" + i));
        }
        byte[] m = more.toByteArray();
        in.reset(m, 0, m.length);
        for (int i = 0; i < 300; i++) {
            assertEquals("s" + (i % 3 == 0 ? "web-1" : i % 3 == 1 ? "curl" : "x" + i), in.readString());
        }
    }
}
