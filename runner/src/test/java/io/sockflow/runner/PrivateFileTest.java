package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** up writes its run files as root into the runtime user's folder: a link planted at the name is never followed. */
class PrivateFileTest {
    @TempDir
    Path dir;

    @Test
    void aLinkPlantedAtTheNameIsReplacedNotFollowedAndTheFileIsPrivate() throws Exception {
        Path victim = Files.writeString(dir.resolve("passwd"), "root:x:0:0\n");
        Path name = dir.resolve("alerts.properties");
        Files.createSymbolicLink(name, victim);
        Up.privateFile(name, "alerts.syslog=udp://127.0.0.1:514\n".getBytes(StandardCharsets.UTF_8), null);
        assertEquals("root:x:0:0\n", Files.readString(victim), "what the link pointed to is untouched");
        assertTrue(Files.isRegularFile(name, LinkOption.NOFOLLOW_LINKS));
        assertEquals("alerts.syslog=udp://127.0.0.1:514\n", Files.readString(name));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(name)));
        // written again over its own earlier copy
        Up.privateFile(name, "x\n".getBytes(StandardCharsets.UTF_8), null);
        assertEquals("x\n", Files.readString(name));
    }
}
