package io.sockflow.collector.decode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Maps a cgroup v2 id (the inode number of the cgroup's directory) to the id of the container it belongs to,
 * read from the cgroup path the way container runtimes name them (docker-ID.scope, cri-containerd-ID.scope,
 * crio-ID.scope, libpod-ID.scope, /docker/ID). Looked up once per cgroup and cached.
 */
public interface ContainerResolver {
    ContainerResolver NONE = cgroupId -> null;

    String containerId(long cgroupId);

    static ContainerResolver fromCgroupFs(Path root) {
        return new CgroupFs(root);
    }

    /** Walks the cgroup2 tree when an id is not known yet. */
    final class CgroupFs implements ContainerResolver {
        private static final Pattern ID = Pattern.compile("(?:docker|cri-containerd|crio|libpod)[-/]([0-9a-f]{64})");
        private static final int MAX_CACHED = 65_536;
        private final Path root;
        private final Map<Long, String> byId = new HashMap<>();
        private long lastScanNs;

        CgroupFs(Path root) {
            this.root = root;
        }

        @Override
        public String containerId(long cgroupId) {
            if (cgroupId == 0) {
                return null;
            }
            if (byId.containsKey(cgroupId)) {
                return byId.get(cgroupId);
            }
            long now = System.nanoTime();
            if (now - lastScanNs > 1_000_000_000L) { // at most one walk a second, however many unknown ids
                lastScanNs = now;
                scan();
            }
            String id = byId.get(cgroupId);
            if (!byId.containsKey(cgroupId) && byId.size() < MAX_CACHED) {
                byId.put(cgroupId, null);
            }
            return id;
        }

        private void scan() {
            if (byId.size() >= MAX_CACHED) {
                byId.clear();
            }
            try (Stream<Path> s = Files.walk(root, 8)) {
                s.filter(Files::isDirectory).forEach(p -> {
                    try {
                        Object ino = Files.readAttributes(p, BasicFileAttributes.class)
                                .fileKey();
                        long id = inode(ino);
                        if (id != 0) {
                            Matcher m = ID.matcher(p.toString());
                            String found = null;
                            while (m.find()) {
                                found = m.group(1);
                            }
                            byId.put(id, found);
                        }
                    } catch (IOException ignored) {
                        // the cgroup went away during the walk
                    }
                });
            } catch (IOException | RuntimeException ignored) {
                // no cgroup2 mounted there: nothing to resolve
            }
        }

        private static long inode(Object fileKey) {
            // UnixFileKey prints as (dev=...,ino=N)
            if (fileKey == null) {
                return 0;
            }
            String s = fileKey.toString();
            int i = s.indexOf("ino=");
            if (i < 0) {
                return 0;
            }
            int j = i + 4;
            while (j < s.length() && Character.isDigit(s.charAt(j))) {
                j++;
            }
            return Long.parseLong(s.substring(i + 4, j));
        }
    }
}
