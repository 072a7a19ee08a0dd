package io.sockflow.collector.decode;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attributes kernel tracepoint records to the process that owns their socket. Many fire in softirq, in whatever
 * task happened to run, so their pid and comm say nothing; the owner is learned from the socket's system calls
 * (socket, socketpair, accept and every later call on it), keyed by the struct sock address both carry. A record
 * whose owner is not known yet (the server side of a handshake fires before accept returns) waits up to
 * {@code holdNs}; the socket's inode is filled in too, so a kernel record is keyed and partitioned with its
 * socket's calls. After that it is emitted with attribution UNKNOWN and pid 0 rather than a guess.
 * Single-threaded, like the decoder.
 */
public final class SocketOwners {
    /** Who owns a socket. */
    public record Owner(
            int pid,
            int tid,
            long processStartNs,
            String comm,
            int uid,
            int gid,
            long cgroupId,
            String containerId,
            long inode) {
        static Owner of(SocketEvent e, Long inode) {
            return new Owner(
                    e.getPid(),
                    e.getTid(),
                    e.getProcessStartNs(),
                    e.getComm(),
                    e.getUid(),
                    e.getGid(),
                    e.getCgroupId(),
                    e.getContainerId(),
                    inode == null ? 0 : inode);
        }
    }

    private record Held(long sinceNs, SocketEvent event) {}

    private final long holdNs;
    private final int maxSockets;
    private final Map<Long, Owner> owners;
    private final Map<Long, ArrayDeque<Held>> pending = new LinkedHashMap<>();
    private int pendingCount;
    private long unknown;

    public SocketOwners(long holdNs, int maxSockets) {
        this.holdNs = holdNs;
        this.maxSockets = maxSockets;
        this.owners = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Owner> eldest) {
                return size() > SocketOwners.this.maxSockets;
            }
        };
    }

    /** Kernel events emitted without a known owner so far. */
    public long unknown() {
        return unknown;
    }

    public int pending() {
        return pendingCount;
    }

    /**
     * Takes one decoded event and returns those to emit now, in order. A kernel event may be held, so it must be
     * a fresh object; a system-call event is returned at once and may be a reused one.
     */
    public List<SocketEvent> accept(SocketEvent e, long nowNs) {
        List<SocketEvent> out = new ArrayList<>(1);
        if (!SocketEventDecoder.isKernelEvent(e.getKind())) {
            Long sk = e.getSocketKernelAddress();
            // a close says nothing of who owns the socket: a child closing what it inherited on its way to exec
            // would otherwise be taken for the owner of its parent's sockets
            if (sk != null && e.getKind() != EventKind.CLOSE) {
                learn(sk, Owner.of(e, e.getSocketInode()), out);
            }
            if (e.getKind() == EventKind.SOCKETPAIR && e.getRelatedSocketKernelAddress() != null) {
                learn(e.getRelatedSocketKernelAddress(), Owner.of(e, e.getRelatedSocketInode()), out);
            }
            out.add(e);
            return out;
        }
        Long sk = e.getSocketKernelAddress();
        Owner owner = sk == null ? null : owners.get(sk);
        if (owner != null) {
            attribute(e, owner);
            out.add(e);
        } else if (e.getKind() == EventKind.SOCK_SEND || e.getKind() == EventKind.SOCK_RECV) {
            e.setAttribution("CALLER"); // these run in the sending or receiving process itself
            out.add(e);
        } else if (sk == null || sk == 0) {
            unknownOwner(e); // a reset sent for no socket at all
            out.add(e);
        } else {
            pending.computeIfAbsent(sk, k -> new ArrayDeque<>()).add(new Held(nowNs, e));
            pendingCount++;
        }
        if (e.getKind() == EventKind.TCP_DESTROY && owner != null) {
            owners.remove(sk); // the socket is gone; its address will be reused
        }
        return out;
    }

    private void learn(long sk, Owner owner, List<SocketEvent> out) {
        owners.put(sk, owner);
        ArrayDeque<Held> held = pending.remove(sk);
        if (held != null) {
            for (Held h : held) {
                attribute(h.event(), owner);
                out.add(h.event());
            }
            pendingCount -= held.size();
        }
    }

    /** Held events whose owner did not show up in time, oldest sockets first. */
    public List<SocketEvent> expire(long nowNs) {
        List<SocketEvent> out = new ArrayList<>();
        Iterator<Map.Entry<Long, ArrayDeque<Held>>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            ArrayDeque<Held> q = it.next().getValue();
            if (nowNs - q.peekFirst().sinceNs() < holdNs) {
                continue;
            }
            for (Held h : q) {
                unknownOwner(h.event());
                out.add(h.event());
            }
            pendingCount -= q.size();
            it.remove();
        }
        return out;
    }

    /** Everything held, now (at stop). */
    public List<SocketEvent> flush() {
        List<SocketEvent> out = new ArrayList<>();
        for (ArrayDeque<Held> q : pending.values()) {
            for (Held h : q) {
                unknownOwner(h.event());
                out.add(h.event());
            }
        }
        pending.clear();
        pendingCount = 0;
        return out;
    }

    private static void attribute(SocketEvent e, Owner o) {
        e.setAttribution("SOCKET_OWNER");
        e.setPid(o.pid());
        e.setTid(o.tid());
        e.setProcessStartNs(o.processStartNs());
        e.setComm(o.comm());
        e.setUid(o.uid());
        e.setGid(o.gid());
        e.setCgroupId(o.cgroupId());
        e.setContainerId(o.containerId());
        if (e.getSocketInode() == null && o.inode() != 0) {
            e.setSocketInode(o.inode()); // joined by struct sock address: same key, same partition as its calls
        }
    }

    private void unknownOwner(SocketEvent e) {
        unknown++;
        e.setAttribution("UNKNOWN");
        e.setPid(0);
        e.setTid(0);
        e.setComm("");
    }
}
