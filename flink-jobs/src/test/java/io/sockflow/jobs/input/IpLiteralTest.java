package io.sockflow.jobs.input;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.flow.CommunityId;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * IP literals read without a name service: the same bytes as the JDK's parser for every form of literal, null for
 * anything else, and no lookup of a name, not even one that starts with a digit.
 */
class IpLiteralTest {
    static final List<String> NOT_LITERALS = List.of(
            "",
            "1evil.example",
            "localhost",
            "10.0.0.1.example",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.-4",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1..2.3",
            "0x7f.0.0.1",
            "١.٢.٣.٤",
            "1.2.3.4/8",
            ":",
            ":::",
            "1:",
            ":1",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "1:2:3:4:5:6:7::8:9",
            "12345::1",
            "g::1",
            "::ffff:1.2.3",
            "::1.2.3.4.5",
            "1:2:3:4:5:6:7:1.2.3.4",
            "[::1]",
            "fe80::1%",
            "fe80::1%a b",
            "1.2.3.4%eth0",
            "x".repeat(100),
            "1".repeat(65));

    @Test
    void everyFormOfLiteralGivesTheJdksBytes() throws UnknownHostException {
        List<String> literals = List.of(
                "0.0.0.0",
                "127.0.0.1",
                "255.255.255.255",
                "10.1.2.3",
                "001.002.003.004",
                "::",
                "::1",
                "1::",
                "fe80::1",
                "FE80::a:B:c",
                "2001:db8::8:800:200c:417a",
                "1:2:3:4:5:6:7:8",
                "::ffff:127.0.0.1",
                "::ffff:7f00:1",
                "::1.2.3.4",
                "64:ff9b::192.0.2.33",
                "1:2:3:4:5:6:1.2.3.4",
                "fe80::1%eth0",
                "fe80::1%2");
        for (String s : literals) {
            // a literal: the JDK parses it without a lookup (the zone is the JDK's business, not the address's bytes)
            byte[] jdk = InetAddress.getByName(s.contains("%") ? s.substring(0, s.indexOf('%')) : s)
                    .getAddress();
            assertArrayEquals(jdk, IpLiteral.parse(s), s);
            assertTrue(IpLiteral.isValid(s), s);
        }
        Random r = new Random(7);
        for (int i = 0; i < 5_000; i++) {
            byte[] b = new byte[r.nextBoolean() ? 4 : 16];
            r.nextBytes(b);
            if (i % 3 == 0 && b.length == 16) {
                java.util.Arrays.fill(b, 0, 2 + r.nextInt(12), (byte) 0); // runs of zeros: the "::" forms
            }
            String text = InetAddress.getByAddress(b).getHostAddress();
            assertArrayEquals(InetAddress.getByAddress(b).getAddress(), IpLiteral.parse(text), text);
        }
    }

    @Test
    void anythingElseIsNotAnAddressAndNoNameIsLookedUp() {
        for (String s : NOT_LITERALS) {
            assertNull(IpLiteral.parse(s), s);
            assertFalse(IpLiteral.isValid(s), s);
            assertEquals("", CommunityId.v1(s, 1, "10.0.0.1", 2, 6, 0), s);
            assertEquals("", CommunityId.v1("10.0.0.1", 1, s, 2, 6, 0), s);
        }
        assertNull(IpLiteral.parse(null));
        assertFalse(IpLiteral.isValid(null));
        for (String s : NOT_LITERALS) {
            // Kafka and Flink, in this JVM too, look up localhost themselves
            assertFalse(!s.equals("localhost") && WatchedResolver.LOOKED_UP.contains(s), s + " was looked up");
        }
        // the resolver does watch: a lookup through the JDK is seen (and answered without DNS)
        assertThrows(UnknownHostException.class, () -> InetAddress.getByName("1control.sockflow.invalid"));
        assertTrue(WatchedResolver.LOOKED_UP.contains("1control.sockflow.invalid"));
    }

    @Test
    void theCommunityIdOfLiteralsIsTheSpecsAndTheSameFromBothEnds() {
        assertEquals(
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", CommunityId.v1("128.232.110.120", 34855, "66.35.250.204", 80, 6, 0));
        assertEquals(
                CommunityId.v1("66.35.250.204", 80, "128.232.110.120", 34855, 6, 0),
                CommunityId.v1("128.232.110.120", 34855, "66.35.250.204", 80, 6, 0));
        // an IPv4-mapped address is its IPv4 address, as before
        assertEquals(
                CommunityId.v1("127.0.0.1", 40000, "127.0.0.1", 8080, 6, 0),
                CommunityId.v1("::ffff:127.0.0.1", 40000, "::ffff:7f00:1", 8080, 6, 0));
        assertEquals(
                CommunityId.v1("fe80::1", 1, "fe80::2", 2, 17, 0),
                CommunityId.v1("fe80:0:0:0:0:0:0:2", 2, "FE80::1", 1, 17, 0));
    }
}
