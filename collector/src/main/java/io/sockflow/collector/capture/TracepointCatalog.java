package io.sockflow.collector.capture;

import java.nio.file.Files;
import java.nio.file.Path;

/** Which tracepoints this kernel has, as tracefs lists them under events/CATEGORY/NAME. */
@FunctionalInterface
public interface TracepointCatalog {
    boolean exists(String category, String name);

    static TracepointCatalog tracefs(Path tracefsRoot) {
        return (category, name) -> Files.isDirectory(
                tracefsRoot.resolve("events").resolve(category).resolve(name));
    }
}
