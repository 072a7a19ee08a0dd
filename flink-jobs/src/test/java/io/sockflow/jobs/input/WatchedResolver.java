package io.sockflow.jobs.input;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The test JVM's name resolver (installed through META-INF/services): it notes every name the JVM asks to look up,
 * answers names under the reserved ".example" and ".invalid" domains with "unknown host" itself (so a test of
 * hostile names sends no DNS query anywhere), and passes every other name to the JDK's own resolver.
 */
public final class WatchedResolver extends InetAddressResolverProvider {
    /** Every name looked up in this JVM since it started. */
    public static final Set<String> LOOKED_UP = ConcurrentHashMap.newKeySet();

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                LOOKED_UP.add(host);
                if (host.endsWith(".example") || host.endsWith(".invalid")) {
                    throw new UnknownHostException(host + " (not looked up: a reserved test domain)");
                }
                return builtin.lookupByName(host, policy);
            }

            @Override
            public String lookupByAddress(byte[] addr) throws UnknownHostException {
                return builtin.lookupByAddress(addr);
            }
        };
    }

    @Override
    public String name() {
        return "sockflow-test-watched";
    }
}
