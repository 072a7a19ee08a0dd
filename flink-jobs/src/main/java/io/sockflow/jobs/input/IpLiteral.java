package io.sockflow.jobs.input;

/**
 * IP address literals, read without a name service: {@code InetAddress.getByName} looks up any text that is not a
 * literal (a record's "1evil.example" would become a DNS query from the job), and Java 21, which the jobs run on,
 * has no literal-only parser. IPv4 is the dotted quad; IPv6 is RFC 4291's text (one "::" at most, an IPv4 tail, a
 * "%zone" that is ignored).
 */
public final class IpLiteral {
    /** Longer than any literal (an IPv6 address with an IPv4 tail and a zone): longer text is not one. */
    static final int MAX_LENGTH = 64;

    private IpLiteral() {}

    /** Whether {@code s} is an IP address literal (the IPv4 case allocates nothing). */
    public static boolean isValid(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_LENGTH) {
            return false;
        }
        return s.indexOf(':') < 0 ? ipv4(s, 0, s.length()) >= 0 : parse(s) != null;
    }

    /**
     * The address's bytes, or null when {@code s} is not an IP literal: 4 for IPv4 and for IPv4-mapped IPv6
     * ({@code ::ffff:a.b.c.d}, as InetAddress gives them), 16 for any other IPv6 address.
     */
    public static byte[] parse(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_LENGTH) {
            return null;
        }
        if (s.indexOf(':') < 0) {
            long v = ipv4(s, 0, s.length());
            return v < 0 ? null : new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        }
        byte[] b = ipv6(s);
        if (b == null) {
            return null;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return b;
            }
        }
        if (b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
            return new byte[] {b[12], b[13], b[14], b[15]};
        }
        return b;
    }

    /** The dotted quad in {@code s[from, to)} as an unsigned 32-bit value, or -1. */
    private static long ipv4(String s, int from, int to) {
        long v = 0;
        int parts = 0;
        int i = from;
        while (true) {
            int digits = 0;
            int part = 0;
            while (i < to && digits < 4) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') {
                    break;
                }
                part = part * 10 + (c - '0');
                digits++;
                i++;
            }
            if (digits == 0 || digits > 3 || part > 255) {
                return -1;
            }
            v = (v << 8) | part;
            parts++;
            if (i == to) {
                return parts == 4 ? v : -1;
            }
            if (parts == 4 || s.charAt(i) != '.') {
                return -1;
            }
            i++;
        }
    }

    private static byte[] ipv6(String s) {
        int end = s.length();
        int zone = s.indexOf('%');
        if (zone >= 0) {
            if (zone == end - 1) {
                return null;
            }
            for (int i = zone + 1; i < end; i++) {
                char c = s.charAt(i);
                if (!(Character.isLetterOrDigit(c) && c < 128 || c == '.' || c == '-' || c == '_')) {
                    return null;
                }
            }
            end = zone;
        }
        int[] groups = new int[8];
        int n = 0;
        int gap = -1;
        int i = 0;
        if (s.startsWith("::")) {
            gap = 0;
            i = 2;
        } else if (end > 0 && s.charAt(0) == ':') {
            return null;
        }
        while (i < end) {
            int j = i;
            boolean dotted = false;
            while (j < end && s.charAt(j) != ':') {
                dotted |= s.charAt(j) == '.';
                j++;
            }
            if (dotted) { // an IPv4 tail: the last two groups
                long v4 = j == end && n <= 6 ? ipv4(s, i, j) : -1;
                if (v4 < 0) {
                    return null;
                }
                groups[n++] = (int) (v4 >>> 16);
                groups[n++] = (int) (v4 & 0xffff);
                i = j;
                break;
            }
            if (j - i < 1 || j - i > 4 || n == 8) {
                return null;
            }
            int g = 0;
            for (int k = i; k < j; k++) {
                int d = Character.digit(s.charAt(k), 16);
                if (d < 0 || s.charAt(k) >= 128) {
                    return null;
                }
                g = (g << 4) | d;
            }
            groups[n++] = g;
            if (j == end) {
                i = j;
                break;
            }
            if (j + 1 < end && s.charAt(j + 1) == ':') {
                if (gap >= 0) {
                    return null; // a second "::"
                }
                gap = n;
                i = j + 2;
            } else {
                i = j + 1;
                if (i == end) {
                    return null; // a trailing single ':'
                }
            }
        }
        if (gap < 0 ? n != 8 : n > 7) {
            return null;
        }
        byte[] b = new byte[16];
        int head = gap < 0 ? n : gap;
        for (int k = 0; k < head; k++) {
            b[2 * k] = (byte) (groups[k] >>> 8);
            b[2 * k + 1] = (byte) groups[k];
        }
        int tail = n - head;
        for (int k = 0; k < tail; k++) {
            int at = 8 - tail + k;
            b[2 * at] = (byte) (groups[head + k] >>> 8);
            b[2 * at + 1] = (byte) groups[head + k];
        }
        return b;
    }
}
