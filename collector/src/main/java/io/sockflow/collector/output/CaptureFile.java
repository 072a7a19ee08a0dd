package io.sockflow.collector.output;

import io.sockflow.schemas.SocketEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * A recorded capture: SocketEvent records in an Avro object container file (the schema travels in the file, so any
 * later version of sockflow, or any Avro tool, reads it). {@code sockflow collect --output file} writes one;
 * {@code sockflow up --replay FILE} plays it back where live capture cannot run.
 */
public final class CaptureFile implements AutoCloseable {
    private final DataFileWriter<SocketEvent> writer;
    private final Path path;
    private long count;

    private CaptureFile(Path path, DataFileWriter<SocketEvent> writer) {
        this.path = path;
        this.writer = writer;
    }

    public static CaptureFile create(Path path) {
        try {
            DataFileWriter<SocketEvent> w = new DataFileWriter<>(new SpecificDatumWriter<>(SocketEvent.class));
            w.setCodec(CodecFactory.deflateCodec(6));
            w.create(SocketEvent.getClassSchema(), path.toFile());
            return new CaptureFile(path, w);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the capture file " + path + ": " + e.getMessage(), e);
        }
    }

    public void write(SocketEvent e) {
        try {
            writer.append(e);
            count++;
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write the capture file " + path + ": " + ex.getMessage(), ex);
        }
    }

    public long count() {
        return count;
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every event of a capture file, in the order recorded. */
    public static List<SocketEvent> read(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, "the capture file " + path);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read the capture file " + path + ": " + e.getMessage()
                            + " (record one with: sockflow collect --output file --file " + path + ")",
                    e);
        }
    }

    /** Every event of a capture read from a stream ({@code name} says which, for errors). */
    public static List<SocketEvent> read(InputStream in, String name) {
        List<SocketEvent> out = new ArrayList<>();
        try (DataFileStream<SocketEvent> r = new DataFileStream<>(in, new SpecificDatumReader<>(SocketEvent.class))) {
            while (r.hasNext()) {
                out.add(r.next());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + ": " + e.getMessage(), e);
        }
        return out;
    }
}
