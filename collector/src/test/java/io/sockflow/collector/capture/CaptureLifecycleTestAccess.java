package io.sockflow.collector.capture;

/** The program counts CaptureLifecycleTest holds, for the tests of other packages. */
public final class CaptureLifecycleTestAccess {
    public static final int SYSCALL_PROGRAMS = CaptureLifecycleTest.SYSCALL_PROGRAMS;

    private CaptureLifecycleTestAccess() {}
}
