package io.sockflow.runner;

import io.sockflow.collector.sys.Privileges;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The class path of the unprivileged pipeline. When up runs as root from a build in root's home (a machine used as
 * root only), the runtime user cannot read it: then each entry it cannot read is copied into the data folder's
 * {@code lib} (the user's, 0600), once per change of the build. The collector never runs from that copy, as root
 * would then run code the user can change.
 */
final class ClassPath {
    private ClassPath() {}

    static String forUser(String classPath, Path lib, Privileges.Identity user) throws IOException {
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String e : classPath.split(":")) {
            Path p = Path.of(e).toAbsolutePath();
            if (e.isBlank() || !Files.exists(p) || readable(p, user)) {
                out.add(e);
                continue;
            }
            if (!Files.isDirectory(lib)) {
                Files.createDirectories(lib);
                DataFolder.chown(lib, user);
            }
            Path copy = lib.resolve((i++) + "-" + p.getFileName());
            copy(p, copy, user);
            out.add(copy.toString());
        }
        return String.join(":", out);
    }

    private static void copy(Path from, Path to, Privileges.Identity user) throws IOException {
        if (Files.isDirectory(from)) {
            DataFolder.deleteTree(to); // build output folders are small: copied afresh
            try (Stream<Path> all = Files.walk(from)) {
                for (Path f : all.toList()) {
                    Path t = to.resolve(from.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(t);
                    } else {
                        Files.copy(f, t);
                    }
                    DataFolder.chown(t, user);
                }
            }
            return;
        }
        FileTime built = Files.getLastModifiedTime(from);
        if (Files.isRegularFile(to, LinkOption.NOFOLLOW_LINKS)
                && Files.size(to) == Files.size(from)
                && Files.getLastModifiedTime(to).equals(built)) {
            return;
        }
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(to, built);
        DataFolder.chown(to, user);
    }

    /** Whether {@code user} may read {@code p}: every folder above it enterable, and the entry itself readable. */
    static boolean readable(Path p, Privileges.Identity user) throws IOException {
        for (Path d = p.getParent(); d != null; d = d.getParent()) {
            if (!allows(d, user, 1)) {
                return false;
            }
        }
        return allows(p, user, Files.isDirectory(p) ? 5 : 4);
    }

    private static boolean allows(Path p, Privileges.Identity user, int bits) throws IOException {
        int mode = (Integer) Files.getAttribute(p, "unix:mode");
        int uid = (Integer) Files.getAttribute(p, "unix:uid");
        int gid = (Integer) Files.getAttribute(p, "unix:gid");
        int m = uid == user.uid() ? mode >> 6 : gid == user.gid() ? mode >> 3 : mode;
        return (m & bits) == bits;
    }
}
