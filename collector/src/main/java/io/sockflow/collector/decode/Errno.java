package io.sockflow.collector.decode;

/** errno numbers by name, and the other way round. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int ENOSYS = 38;
    public static final int ECONNREFUSED = 111;

    private Errno() {
    }

    /** The symbolic name, e.g. ECONNREFUSED, or E&lt;n&gt; for a number without one. */
    public static String name(int errno) {
        if (errno > 0 && errno < LinuxNames.ERRNO.length && LinuxNames.ERRNO[errno] != null) {
            return LinuxNames.ERRNO[errno];
        }
        return "E" + errno;
    }

    /** "ENOENT (No such file or directory)"-style text for messages. */
    public static String describe(int errno) {
        String text = switch (errno) {
            case EPERM -> "operation not permitted";
            case ENOENT -> "no such file or directory";
            case EACCES -> "permission denied";
            case EINVAL -> "invalid argument";
            case ENOSYS -> "not supported by this kernel";
            case EBUSY -> "busy";
            default -> null;
        };
        return text == null ? name(errno) : name(errno) + ", " + text;
    }
}
