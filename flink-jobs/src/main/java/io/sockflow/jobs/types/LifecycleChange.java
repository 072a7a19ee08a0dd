package io.sockflow.jobs.types;

import io.sockflow.schemas.SocketLifecycle;

/**
 * What the lifecycle function tells the flow function: a lifecycle record, and whether it is one that is also
 * published (an update or the end) or only the early notice that a socket got connected, so that a flow's NEW
 * record does not wait for the socket's first update.
 */
public class LifecycleChange {
    public SocketLifecycle record;
    public boolean published;

    public LifecycleChange() {}

    public LifecycleChange(SocketLifecycle record, boolean published) {
        this.record = record;
        this.published = published;
    }
}
