package io.sockflow.jobs.flow;

import io.sockflow.jobs.input.IpLiteral;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Community ID v1 (the flow hash Zeek, Suricata, Elastic and NetObserv share): base64 of the SHA-1 of seed,
 * the two addresses and ports in a canonical order, and the protocol, prefixed with "1:". The same connection gets
 * the same id on every tool and both of its ends. Addresses are read as literals only, never looked up; a flow whose
 * address is not one (the source dead-letters such events, so only a record made elsewhere) gets an empty id
 * instead of failing the job.
 */
public final class CommunityId {
    private CommunityId() {}

    public static String v1(String srcAddress, int srcPort, String dstAddress, int dstPort, int protocol, int seed) {
        try {
            return v1(srcAddress, srcPort, dstAddress, dstPort, protocol, seed, MessageDigest.getInstance("SHA-1"));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same with a SHA-1 digest of the caller's (looking one up costs more than the hash itself). */
    public static String v1(
            String srcAddress,
            int srcPort,
            String dstAddress,
            int dstPort,
            int protocol,
            int seed,
            MessageDigest sha1) {
        byte[] a = IpLiteral.parse(srcAddress);
        byte[] b = IpLiteral.parse(dstAddress);
        if (a == null || b == null) {
            return "";
        }
        int pa = srcPort;
        int pb = dstPort;
        if (!lessOrEqual(a, pa, b, pb)) {
            byte[] t = a;
            a = b;
            b = t;
            int tp = pa;
            pa = pb;
            pb = tp;
        }
        ByteBuffer buf = ByteBuffer.allocate(2 + a.length + b.length + 2 + 4);
        buf.putShort((short) seed).put(a).put(b).put((byte) protocol).put((byte) 0);
        buf.putShort((short) pa).putShort((short) pb);
        sha1.reset();
        return "1:" + Base64.getEncoder().encodeToString(sha1.digest(buf.array()));
    }

    private static boolean lessOrEqual(byte[] a, int pa, byte[] b, int pb) {
        int c = java.util.Arrays.compareUnsigned(a, b);
        return c < 0 || c == 0 && pa <= pb;
    }
}
