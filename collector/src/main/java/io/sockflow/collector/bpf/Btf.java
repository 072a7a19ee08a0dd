package io.sockflow.collector.bpf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BPF Type Format, read: the types a BPF object carries (its .BTF section) or a kernel describes itself with
 * (/sys/kernel/btf/vmlinux). The collector takes the layout of every record and the value of every enum of its kernel
 * contract from the object's BTF, and asks the kernel's BTF what this kernel has (a kfunc, a tracepoint's arguments, a
 * struct field) before choosing which programs to load. Only what those questions need is kept: names, kinds, sizes,
 * struct members with their bit offsets, enum values, and function prototypes' parameter counts.
 */
public final class Btf {
    /** BTF kinds (include/uapi/linux/btf.h). */
    public static final int INT = 1,
            PTR = 2,
            ARRAY = 3,
            STRUCT = 4,
            UNION = 5,
            ENUM = 6,
            FWD = 7,
            TYPEDEF = 8,
            VOLATILE = 9,
            CONST = 10,
            RESTRICT = 11,
            FUNC = 12,
            FUNC_PROTO = 13,
            VAR = 14,
            DATASEC = 15,
            FLOAT = 16,
            DECL_TAG = 17,
            TYPE_TAG = 18,
            ENUM64 = 19;

    private static final int MAGIC = 0xeB9F;

    /** A struct or union member: its name, type and offset in bits. */
    public record Member(String name, int type, long bitOffset) {}

    /** One type. {@code sizeOrType} is the size for INT/STRUCT/UNION/ENUM/DATASEC, the referred type otherwise. */
    public record Type(
            int id,
            int kind,
            String name,
            int sizeOrType,
            int vlen,
            List<Member> members,
            Map<String, Long> enumValues,
            int arrayElem,
            int arrayLen) {}

    private final List<Type> types = new ArrayList<>();
    private final Map<String, List<Type>> byName = new HashMap<>();

    private Btf(ByteBuffer b) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if ((b.getShort(0) & 0xffff) != MAGIC) {
            b.order(ByteOrder.BIG_ENDIAN);
            if ((b.getShort(0) & 0xffff) != MAGIC) {
                throw new IllegalArgumentException("not BTF (bad magic)");
            }
        }
        int hdrLen = b.getInt(4);
        int typeOff = b.getInt(8);
        int typeLen = b.getInt(12);
        int strOff = b.getInt(16);
        int strLen = b.getInt(20);
        int types0 = hdrLen + typeOff;
        int strings0 = hdrLen + strOff;
        if (types0 < 0 || strings0 < 0 || types0 + typeLen > b.limit() || strings0 + strLen > b.limit()) {
            throw new IllegalArgumentException("truncated BTF");
        }
        types.add(new Type(0, 0, "", 0, 0, List.of(), Map.of(), 0, 0)); // id 0 is void
        int p = types0;
        int end = types0 + typeLen;
        while (p < end) {
            int nameOff = b.getInt(p);
            int info = b.getInt(p + 4);
            int sizeOrType = b.getInt(p + 8);
            p += 12;
            int kind = (info >>> 24) & 0x1f;
            int vlen = info & 0xffff;
            boolean kindFlag = (info >>> 31) != 0;
            String name = string(b, strings0, strLen, nameOff);
            List<Member> members = List.of();
            Map<String, Long> values = Map.of();
            int elem = 0;
            int len = 0;
            switch (kind) {
                case INT -> p += 4;
                case ARRAY -> {
                    elem = b.getInt(p);
                    len = b.getInt(p + 8);
                    p += 12;
                }
                case STRUCT, UNION -> {
                    members = new ArrayList<>(vlen);
                    for (int i = 0; i < vlen; i++) {
                        int off = b.getInt(p + 8);
                        long bits = kindFlag ? off & 0xffffff : Integer.toUnsignedLong(off);
                        members.add(new Member(string(b, strings0, strLen, b.getInt(p)), b.getInt(p + 4), bits));
                        p += 12;
                    }
                }
                case ENUM -> {
                    values = new LinkedHashMap<>();
                    for (int i = 0; i < vlen; i++) {
                        values.put(string(b, strings0, strLen, b.getInt(p)), (long) b.getInt(p + 4));
                        p += 8;
                    }
                }
                case ENUM64 -> {
                    values = new LinkedHashMap<>();
                    for (int i = 0; i < vlen; i++) {
                        long v = Integer.toUnsignedLong(b.getInt(p + 4)) | (long) b.getInt(p + 8) << 32;
                        values.put(string(b, strings0, strLen, b.getInt(p)), v);
                        p += 12;
                    }
                }
                case FUNC_PROTO -> p += 8 * vlen;
                case VAR, DECL_TAG -> p += 4;
                case DATASEC -> p += 12 * vlen;
                case PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG -> {}
                default -> throw new IllegalArgumentException("unknown BTF kind " + kind + " at type " + types.size());
            }
            Type t = new Type(types.size(), kind, name, sizeOrType, vlen, members, values, elem, len);
            types.add(t);
            if (!name.isEmpty()) {
                byName.computeIfAbsent(name, k -> new ArrayList<>(1)).add(t);
            }
        }
    }

    private static String string(ByteBuffer b, int base, int len, int off) {
        if (off < 0 || off >= len) {
            return "";
        }
        int start = base + off;
        int e = start;
        while (e < base + len && b.get(e) != 0) {
            e++;
        }
        byte[] s = new byte[e - start];
        b.get(start, s);
        return new String(s, StandardCharsets.US_ASCII);
    }

    /** Raw BTF, as /sys/kernel/btf/vmlinux holds it. */
    public static Btf parse(byte[] raw) {
        return new Btf(ByteBuffer.wrap(raw));
    }

    public static Btf read(Path raw) throws IOException {
        return parse(Files.readAllBytes(raw));
    }

    /** The BTF of an ELF object (its .BTF section). */
    public static Btf ofElf(byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        if (elf.length < 64 || b.getInt(0) != 0x464c457f || elf[4] != 2) {
            throw new IllegalArgumentException("not a 64-bit ELF object");
        }
        if (elf[5] == 2) {
            b.order(ByteOrder.BIG_ENDIAN);
        }
        long shoff = b.getLong(0x28);
        int shentsize = b.getShort(0x3a) & 0xffff;
        int shnum = b.getShort(0x3c) & 0xffff;
        int shstrndx = b.getShort(0x3e) & 0xffff;
        long namesOff = b.getLong((int) (shoff + (long) shstrndx * shentsize + 0x18));
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int nameOff = b.getInt(sh);
            String name = cString(elf, (int) (namesOff + nameOff));
            if (name.equals(".BTF")) {
                int off = (int) b.getLong(sh + 0x18);
                int size = (int) b.getLong(sh + 0x20);
                return new Btf(ByteBuffer.wrap(elf, off, size).slice());
            }
        }
        throw new IllegalArgumentException("the object has no .BTF section: build it with clang -g");
    }

    private static String cString(byte[] a, int off) {
        int e = off;
        while (e < a.length && a[e] != 0) {
            e++;
        }
        return new String(a, off, e - off, StandardCharsets.US_ASCII);
    }

    public Type type(int id) {
        return types.get(id);
    }

    /** The first type of this kind and name, or null. */
    public Type find(String name, int kind) {
        for (Type t : byName.getOrDefault(name, List.of())) {
            if (t.kind() == kind) {
                return t;
            }
        }
        return null;
    }

    /** The type behind typedefs and qualifiers. */
    public Type resolve(int id) {
        Type t = types.get(id);
        while (t.kind() == TYPEDEF
                || t.kind() == VOLATILE
                || t.kind() == CONST
                || t.kind() == RESTRICT
                || t.kind() == TYPE_TAG) {
            t = types.get(t.sizeOrType());
        }
        return t;
    }

    /** Size in bytes of a type (arrays included). */
    public long size(int id) {
        Type t = resolve(id);
        return switch (t.kind()) {
            case ARRAY -> size(t.arrayElem()) * t.arrayLen();
            case PTR -> 8;
            default -> t.sizeOrType();
        };
    }

    /** Whether a struct has a member of this name (directly, not in an anonymous inner struct). */
    public boolean hasMember(String struct, String member) {
        Type t = find(struct, STRUCT);
        return t != null && t.members().stream().anyMatch(m -> m.name().equals(member));
    }

    /** The number of parameters of a kernel function (its FUNC's prototype), or -1 when its BTF has no such function. */
    public int functionArgs(String name) {
        Type f = find(name, FUNC);
        if (f == null) {
            return -1;
        }
        Type proto = resolve(f.sizeOrType());
        return proto.kind() == FUNC_PROTO ? proto.vlen() : -1;
    }

    /**
     * The number of arguments a raw tracepoint passes its programs (its {@code btf_trace_<name>} prototype, without the
     * leading context pointer), or -1 when this kernel has no such tracepoint.
     */
    public int tracepointArgs(String name) {
        Type t = find("btf_trace_" + name, TYPEDEF);
        if (t == null) {
            return -1;
        }
        Type ptr = resolve(t.sizeOrType());
        if (ptr.kind() != PTR) {
            return -1;
        }
        Type proto = resolve(ptr.sizeOrType());
        return proto.kind() == FUNC_PROTO ? proto.vlen() - 1 : -1;
    }
}
