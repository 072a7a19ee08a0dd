package io.sockflow.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system (core-site.xml names it {@code fs.file.impl}) with permissions and owners set through
 * java.nio: Hadoop's own, without its native library, starts a {@code chmod} process for every file and folder it
 * makes (about five a second while the lake and checkpoints are written). Everything else is Hadoop's.
 */
public class PrivateLocalFileSystem extends LocalFileSystem {
    public PrivateLocalFileSystem() {
        super(new Raw());
    }

    /** The raw file system under the checksums. */
    public static class Raw extends RawLocalFileSystem {
        private static final PosixFilePermission[] BITS = {
            PosixFilePermission.OTHERS_EXECUTE,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE,
            PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ
        };

        @Override
        public void setPermission(Path p, FsPermission permission) throws IOException {
            int mode = permission.toShort() & 0777;
            Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
            for (int i = 0; i < BITS.length; i++) {
                if ((mode & (1 << i)) != 0) {
                    set.add(BITS[i]);
                }
            }
            Files.setPosixFilePermissions(pathToFile(p).toPath(), set);
        }

        @Override
        public void setOwner(Path p, String user, String group) throws IOException {
            java.nio.file.Path f = pathToFile(p).toPath();
            PosixFileAttributeView view =
                    Files.getFileAttributeView(f, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            UserPrincipalLookupService names = f.getFileSystem().getUserPrincipalLookupService();
            if (user != null) {
                view.setOwner(names.lookupPrincipalByName(user));
            }
            if (group != null) {
                GroupPrincipal g = names.lookupPrincipalByGroupName(group);
                view.setGroup(g);
            }
        }
    }
}
