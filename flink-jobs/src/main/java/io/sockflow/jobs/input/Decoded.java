package io.sockflow.jobs.input;

import io.sockflow.schemas.SocketEvent;

/** What the source hands on: a decoded event, or the record that could not be decoded and why. */
public class Decoded {
    public SocketEvent event;
    public DeadLetter dead;

    public Decoded() {}

    static Decoded of(SocketEvent e) {
        Decoded d = new Decoded();
        d.event = e;
        return d;
    }

    static Decoded dead(RawRecord r, String reason) {
        Decoded d = new Decoded();
        d.dead = new DeadLetter(r, reason);
        return d;
    }
}
