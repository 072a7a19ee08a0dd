package io.sockflow.collector.cli;

import io.sockflow.collector.capture.Capture;

/** Lets tests in other packages reach the collector's report line. */
public final class CollectCommandAccess {
    private CollectCommandAccess() {}

    public static String describe(Capture.Stats s) {
        return CollectCommand.describe(s);
    }
}
