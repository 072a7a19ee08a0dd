package io.sockflow.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds what a job starts from: a checkpoint or savepoint given by its folder, or the newest retained checkpoint
 * under the checkpoint folder ({@code restore=latest}). Flink keeps a job's checkpoints as
 * {@code <checkpoint.dir>/<job id>/chk-<n>/_metadata}; a checkpoint is complete once its {@code _metadata} exists.
 */
public final class Checkpoints {
    private Checkpoints() {}

    /** The checkpoint folder to start from, or null for a fresh start. */
    public static Path resolve(String restore, String checkpointDir) {
        if (restore == null || restore.isBlank()) {
            return null;
        }
        if (restore.equals("latest")) {
            return latest(local(checkpointDir, "checkpoint.dir")).orElse(null);
        }
        Path p = local(restore, "restore");
        if (Files.isRegularFile(p) && p.getFileName().toString().equals("_metadata")) {
            p = p.getParent();
        }
        if (!Files.isRegularFile(p.resolve("_metadata"))) {
            throw new IllegalArgumentException(
                    "restore: " + restore + " is not a checkpoint or savepoint (no _metadata "
                            + "in it): give a chk-N folder of a finished checkpoint, or 'latest'");
        }
        return p;
    }

    /** The newest complete checkpoint of any job under {@code dir}. */
    public static Optional<Path> latest(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> jobs = Files.list(dir)) {
            return jobs.filter(Files::isDirectory)
                    .flatMap(Checkpoints::complete)
                    .max(Comparator.comparing(Checkpoints::finished).thenComparing(Checkpoints::number));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints under " + dir, e);
        }
    }

    private static Stream<Path> complete(Path job) {
        try (Stream<Path> s = Files.list(job)) {
            return s
                    .filter(c -> c.getFileName().toString().startsWith("chk-")
                            && Files.isRegularFile(c.resolve("_metadata")))
                    .toList()
                    .stream();
        } catch (IOException e) {
            return Stream.empty(); // removed while listed: Flink subsumed it
        }
    }

    private static FileTime finished(Path chk) {
        try {
            return Files.getLastModifiedTime(chk.resolve("_metadata"));
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static long number(Path chk) {
        try {
            return Long.parseLong(chk.getFileName().toString().substring(4));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Path local(String location, String option) {
        if (location.contains("://") || location.startsWith("file:")) {
            URI u = URI.create(location);
            if (!"file".equals(u.getScheme())) {
                throw new IllegalArgumentException(
                        option + ": " + location + " is not on a local file system: give the "
                                + "checkpoint's folder to restore, or restore from the Flink cluster's own tools");
            }
            return Path.of(u);
        }
        return Path.of(location).toAbsolutePath();
    }
}
