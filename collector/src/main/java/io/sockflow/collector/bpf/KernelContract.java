package io.sockflow.collector.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * bpf/sockflow.h as the collector sees it: the layout of every record and the value of every enum, read by name from
 * the BTF of the compiled object the collector loads. Nothing here repeats a number of the header: a field that moves
 * there moves here, and a name that is gone there fails here, at class initialisation, with the name in the message.
 */
public final class KernelContract {
    /** The object the collector loads on kernels with the bpf_rdonly_cast kfunc (6.2 on). */
    public static final String OBJECT = "/io/sockflow/bpf/sockflow.bpf.o";
    /** The same programs reading kernel memory through bpf_probe_read_kernel, for older kernels. */
    public static final String COMPAT_OBJECT = "/io/sockflow/bpf/sockflow-compat.bpf.o";

    private static volatile KernelContract instance;

    private final Btf btf;

    /** A struct of the contract: its size and its members' byte offsets and sizes. */
    public static final class Struct {
        private final String name;
        private final long size;
        private final Map<String, long[]> members = new LinkedHashMap<>();

        Struct(Btf btf, String name) {
            Btf.Type t = btf.find(name, Btf.STRUCT);
            if (t == null) {
                throw new IllegalStateException("struct " + name + " is not in the BPF object's BTF: is it used (or "
                        + "anchored) in sockflow.bpf.c?");
            }
            this.name = name;
            this.size = t.sizeOrType();
            for (Btf.Member m : t.members()) {
                if (m.bitOffset() % 8 != 0) {
                    throw new IllegalStateException(name + "." + m.name() + " is not byte-aligned");
                }
                members.put(m.name(), new long[] {m.bitOffset() / 8, btf.size(m.type())});
            }
        }

        public String name() {
            return name;
        }

        public long size() {
            return size;
        }

        public long offset(String member) {
            return member(member)[0];
        }

        public long sizeOf(String member) {
            return member(member)[1];
        }

        public Map<String, Long> offsets() {
            Map<String, Long> m = new LinkedHashMap<>();
            members.forEach((k, v) -> m.put(k, v[0]));
            return m;
        }

        private long[] member(String member) {
            long[] m = members.get(member);
            if (m == null) {
                throw new IllegalStateException(name + " has no member " + member + " in bpf/sockflow.h");
            }
            return m;
        }
    }

    private KernelContract(Btf btf) {
        this.btf = btf;
    }

    /** The contract of the object packaged with the collector. */
    public static KernelContract get() {
        KernelContract c = instance;
        if (c == null) {
            synchronized (KernelContract.class) {
                c = instance;
                if (c == null) {
                    c = instance = new KernelContract(Btf.ofElf(objectBytes(OBJECT)));
                }
            }
        }
        return c;
    }

    /** The contract of any object built from sockflow.h (tests). */
    public static KernelContract of(byte[] elf) {
        return new KernelContract(Btf.ofElf(elf));
    }

    public static byte[] objectBytes(String resource) {
        try (InputStream in = KernelContract.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new BpfException(
                        "the BPF object " + resource + " is not on the class path: "
                                + "build it with ./sockflow build (needs clang and libbpf headers)",
                        2);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the BPF object " + resource, e);
        }
    }

    public Btf btf() {
        return btf;
    }

    public Struct struct(String name) {
        return new Struct(btf, name);
    }

    /** Every constant of an enum of the header, by name, in declaration order. */
    public Map<String, Long> enumValues(String enumName) {
        Btf.Type t = btf.find(enumName, Btf.ENUM);
        if (t == null) {
            t = btf.find(enumName, Btf.ENUM64);
        }
        if (t == null) {
            throw new IllegalStateException(
                    "enum " + enumName + " is not in the BPF object's BTF: anchor it in " + "sockflow.bpf.c");
        }
        return t.enumValues();
    }

    public long value(String enumName, String constant) {
        Long v = enumValues(enumName).get(constant);
        if (v == null) {
            throw new IllegalStateException("enum " + enumName + " has no " + constant + " in bpf/sockflow.h");
        }
        return v;
    }

    public int intValue(String enumName, String constant) {
        return Math.toIntExact(value(enumName, constant));
    }
}
