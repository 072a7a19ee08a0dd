package io.sockflow.runner;

import io.sockflow.collector.sys.Privileges;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The data folder of {@code up}: the runtime user's own, 0700, never a symbolic link and never a folder of someone
 * else's (both could point the pipeline, and the collector's root start, at files it must not touch).
 */
final class DataFolder {
    private DataFolder() {}

    /**
     * Checks and makes the folder; returns its absolute path. {@code user} is who will use it (null: this process's
     * own user, when up does not run as root).
     */
    static Path prepare(Path given, boolean fresh, Privileges.Identity user) throws Up.UsageError, IOException {
        Path data = given.toAbsolutePath().normalize();
        int owner = user != null ? user.uid() : ownUid();
        if (Files.isSymbolicLink(data)) {
            throw new Up.UsageError("--data " + data + " is a symbolic link: give the folder itself ("
                    + data.toRealPath() + ") or another path");
        }
        if (Files.exists(data, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(data, LinkOption.NOFOLLOW_LINKS)) {
                throw new Up.UsageError(
                        "--data " + data + " is not a folder: give a folder, or a path that does not exist yet");
            }
            int has = (Integer) Files.getAttribute(data, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (has != owner) {
                throw new Up.UsageError("--data " + data + " belongs to uid " + has + ", not to uid " + owner
                        + " who runs the pipeline: give a folder of uid " + owner + "'s, or `chown -R " + owner + " "
                        + data + "`");
            }
        }
        if (user != null) {
            reachable(data.getParent(), user);
        }
        if (fresh) {
            deleteTree(data);
        }
        // folders made here (the data folder, and any missing above it) are the user's, as if it had made them
        java.util.ArrayDeque<Path> missing = new java.util.ArrayDeque<>();
        for (Path p = data; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            missing.push(p);
        }
        for (Path p : missing) {
            Files.createDirectory(p);
            if (user != null) {
                chown(p, user);
            }
        }
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        return data;
    }

    /** The runtime user must be able to enter every folder above the data folder. */
    private static void reachable(Path dir, Privileges.Identity user) throws Up.UsageError, IOException {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (!Files.exists(p)) {
                continue;
            }
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            int uid = (Integer) Files.getAttribute(p, "unix:uid");
            int gid = (Integer) Files.getAttribute(p, "unix:gid");
            boolean x = uid == user.uid()
                    ? (mode & 0100) != 0
                    : gid == user.gid() ? (mode & 0010) != 0 : (mode & 0001) != 0;
            if (!x) {
                throw new Up.UsageError("uid " + user.uid() + ", who runs the pipeline, cannot enter " + p + " (mode "
                        + Integer.toOctalString(mode & 07777)
                        + "): put --data under a folder it can enter, or name its owner with --user");
            }
        }
    }

    /** data/run: this run's own files (status, temporary files), emptied at each start and owned by the user. */
    static void cleanRun(Path run, Privileges.Identity user) throws IOException {
        deleteTree(run);
        Files.createDirectories(run.resolve("tmp"));
        if (user != null) {
            chown(run, user);
            chown(run.resolve("tmp"), user);
            for (String d : new String[] {"spool", "tls"}) {
                Path p = run.getParent().resolve(d);
                if (!Files.exists(p)) {
                    Files.createDirectories(p);
                    chown(p, user);
                }
            }
        }
    }

    static void chown(Path p, Privileges.Identity user) throws IOException {
        Files.setAttribute(p, "unix:uid", user.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", user.gid(), LinkOption.NOFOLLOW_LINKS);
    }

    private static int ownUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
