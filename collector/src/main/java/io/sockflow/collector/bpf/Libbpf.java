package io.sockflow.collector.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Hand-written bindings to the part of libbpf 1.1 (libbpf.so.1) that sockflow uses.
 *
 * <p>libbpf's conventions: a function returning a pointer returns NULL on failure and sets errno, which is
 * why those handles capture the call state; a function returning int returns a negative errno.
 */
public final class Libbpf {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIB = load();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** struct bpf_object_open_opts as of libbpf 1.1 (sz = 80). */
    public static final StructLayout OPEN_OPTS = MemoryLayout.structLayout(
            JAVA_LONG.withName("sz"),
            ADDRESS.withName("object_name"),
            JAVA_BOOLEAN.withName("relaxed_maps"),
            MemoryLayout.paddingLayout(7),
            ADDRESS.withName("pin_root_path"),
            JAVA_INT.withName("attach_prog_fd_stub"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("kconfig"),
            ADDRESS.withName("btf_custom_path"),
            ADDRESS.withName("kernel_log_buf"),
            JAVA_LONG.withName("kernel_log_size"),
            JAVA_INT.withName("kernel_log_level"),
            MemoryLayout.paddingLayout(4));

    public static final FunctionDescriptor RING_BUFFER_SAMPLE_FN =
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
    public static final FunctionDescriptor PRINT_FN = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);

    private static final MethodHandle OBJECT_OPEN_MEM =
            handle("bpf_object__open_mem", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), true);
    private static final MethodHandle OBJECT_LOAD =
            handle("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
    private static final MethodHandle OBJECT_CLOSE =
            handle("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS), false);
    private static final MethodHandle OBJECT_NEXT_PROGRAM =
            handle("bpf_object__next_program", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false);
    private static final MethodHandle OBJECT_NEXT_MAP =
            handle("bpf_object__next_map", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false);
    private static final MethodHandle OBJECT_FIND_MAP =
            handle("bpf_object__find_map_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false);
    private static final MethodHandle PROGRAM_NAME =
            handle("bpf_program__name", FunctionDescriptor.of(ADDRESS, ADDRESS), false);
    private static final MethodHandle PROGRAM_SECTION =
            handle("bpf_program__section_name", FunctionDescriptor.of(ADDRESS, ADDRESS), false);
    private static final MethodHandle PROGRAM_SET_AUTOLOAD =
            handle("bpf_program__set_autoload", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BOOLEAN), false);
    private static final MethodHandle PROGRAM_FD =
            handle("bpf_program__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
    private static final MethodHandle PROGRAM_ATTACH =
            handle("bpf_program__attach", FunctionDescriptor.of(ADDRESS, ADDRESS), true);
    private static final MethodHandle PROGRAM_ATTACH_CGROUP =
            handle("bpf_program__attach_cgroup", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), true);
    private static final MethodHandle PROGRAM_ATTACH_ITER =
            handle("bpf_program__attach_iter", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), true);
    private static final MethodHandle LINK_FD = handle("bpf_link__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
    private static final MethodHandle ITER_CREATE =
            handle("bpf_iter_create", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
    private static final MethodHandle LINK_DESTROY =
            handle("bpf_link__destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
    private static final MethodHandle MAP_NAME =
            handle("bpf_map__name", FunctionDescriptor.of(ADDRESS, ADDRESS), false);
    private static final MethodHandle MAP_FD = handle("bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
    private static final MethodHandle MAP_SET_MAX_ENTRIES =
            handle("bpf_map__set_max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), false);
    private static final MethodHandle MAP_INITIAL_VALUE =
            handle("bpf_map__initial_value", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false);
    private static final MethodHandle MAP_LOOKUP_ELEM =
            handle("bpf_map_lookup_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle MAP_UPDATE_ELEM =
            handle("bpf_map_update_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), true);
    private static final MethodHandle MAP_GET_NEXT_KEY =
            handle("bpf_map_get_next_key", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle MAP_LOOKUP_AND_DELETE =
            handle("bpf_map_lookup_and_delete_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle RING_BUFFER_NEW =
            handle("ring_buffer__new", FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), true);
    private static final MethodHandle RING_BUFFER_POLL =
            handle("ring_buffer__poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), false);
    private static final MethodHandle RING_BUFFER_CONSUME =
            handle("ring_buffer__consume", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
    private static final MethodHandle RING_BUFFER_FREE =
            handle("ring_buffer__free", FunctionDescriptor.ofVoid(ADDRESS), false);
    private static final MethodHandle SET_PRINT =
            handle("libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS), false);
    private static final MethodHandle NUM_POSSIBLE_CPUS =
            handle("libbpf_num_possible_cpus", FunctionDescriptor.of(JAVA_INT), false);

    private Libbpf() {}

    private static SymbolLookup load() {
        try {
            return SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            throw new BpfException(
                    "libbpf.so.1 not found: install libbpf 1.x (Debian/Ubuntu: apt-get install libbpf1)");
        }
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd, boolean errno) {
        MemorySegment sym = LIB.find(name)
                .orElseThrow(
                        () -> new BpfException("libbpf.so.1 lacks " + name + ": sockflow needs libbpf 1.1 or newer"));
        return errno ? LINKER.downcallHandle(sym, fd, ERRNO) : LINKER.downcallHandle(sym, fd);
    }

    /** Where a capturing call leaves errno; one per thread. */
    private static final ThreadLocal<MemorySegment> CALL_STATE_BUF =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));

    /** errno set by the last capturing call of this thread. */
    public static int lastErrno() {
        return (int) ERRNO_HANDLE.get(CALL_STATE_BUF.get(), 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    public static MemorySegment objectOpenMem(MemorySegment buf, long size, MemorySegment opts) {
        try {
            return (MemorySegment) OBJECT_OPEN_MEM.invokeExact(CALL_STATE_BUF.get(), buf, size, opts);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int objectLoad(MemorySegment obj) {
        try {
            return (int) OBJECT_LOAD.invokeExact(obj);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void objectClose(MemorySegment obj) {
        try {
            OBJECT_CLOSE.invokeExact(obj);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment objectNextProgram(MemorySegment obj, MemorySegment prev) {
        try {
            return (MemorySegment) OBJECT_NEXT_PROGRAM.invokeExact(obj, prev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment objectNextMap(MemorySegment obj, MemorySegment prev) {
        try {
            return (MemorySegment) OBJECT_NEXT_MAP.invokeExact(obj, prev);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment objectFindMap(MemorySegment obj, MemorySegment name) {
        try {
            return (MemorySegment) OBJECT_FIND_MAP.invokeExact(obj, name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static String programName(MemorySegment prog) {
        try {
            return cString((MemorySegment) PROGRAM_NAME.invokeExact(prog));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static String programSection(MemorySegment prog) {
        try {
            return cString((MemorySegment) PROGRAM_SECTION.invokeExact(prog));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int programSetAutoload(MemorySegment prog, boolean autoload) {
        try {
            return (int) PROGRAM_SET_AUTOLOAD.invokeExact(prog, autoload);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int programFd(MemorySegment prog) {
        try {
            return (int) PROGRAM_FD.invokeExact(prog);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment programAttach(MemorySegment prog) {
        try {
            return (MemorySegment) PROGRAM_ATTACH.invokeExact(CALL_STATE_BUF.get(), prog);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Attaches a cgroup program (cgroup/sock_create, cgroup/sock_release) to the cgroup open at {@code cgroupFd}. */
    public static MemorySegment programAttachCgroup(MemorySegment prog, int cgroupFd) {
        try {
            return (MemorySegment) PROGRAM_ATTACH_CGROUP.invokeExact(CALL_STATE_BUF.get(), prog, cgroupFd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Attaches an iterator program (no options: the whole table), ready for {@link #iterCreate}. */
    public static MemorySegment programAttachIter(MemorySegment prog) {
        try {
            return (MemorySegment) PROGRAM_ATTACH_ITER.invokeExact(CALL_STATE_BUF.get(), prog, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int linkFd(MemorySegment link) {
        try {
            return (int) LINK_FD.invokeExact(link);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A new run of an attached iterator: a file descriptor whose read() runs the program; negative errno on failure. */
    public static int iterCreate(int linkFd) {
        try {
            return (int) ITER_CREATE.invokeExact(linkFd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int linkDestroy(MemorySegment link) {
        try {
            return (int) LINK_DESTROY.invokeExact(link);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static String mapName(MemorySegment map) {
        try {
            return cString((MemorySegment) MAP_NAME.invokeExact(map));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int mapFd(MemorySegment map) {
        try {
            return (int) MAP_FD.invokeExact(map);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int mapSetMaxEntries(MemorySegment map, int maxEntries) {
        try {
            return (int) MAP_SET_MAX_ENTRIES.invokeExact(map, maxEntries);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The writable initial value of a global-data map (.rodata, .data, .bss), before load. */
    public static MemorySegment mapInitialValue(MemorySegment map, Arena arena) {
        MemorySegment size = arena.allocate(JAVA_LONG);
        try {
            MemorySegment p = (MemorySegment) MAP_INITIAL_VALUE.invokeExact(map, size);
            return p.equals(MemorySegment.NULL) ? p : p.reinterpret(size.get(JAVA_LONG, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** bpf_map_lookup_elem: 0 or a negative errno. */
    public static int mapLookupElem(int fd, MemorySegment key, MemorySegment value) {
        try {
            int rc = (int) MAP_LOOKUP_ELEM.invokeExact(CALL_STATE_BUF.get(), fd, key, value);
            return rc < 0 ? -lastErrno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int mapUpdateElem(int fd, MemorySegment key, MemorySegment value, long flags) {
        try {
            int rc = (int) MAP_UPDATE_ELEM.invokeExact(CALL_STATE_BUF.get(), fd, key, value, flags);
            return rc < 0 ? -lastErrno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** bpf_map_get_next_key: 0, or a negative errno (-ENOENT after the last key). */
    public static int mapGetNextKey(int fd, MemorySegment key, MemorySegment nextKey) {
        try {
            int rc = (int) MAP_GET_NEXT_KEY.invokeExact(CALL_STATE_BUF.get(), fd, key, nextKey);
            return rc < 0 ? -lastErrno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** bpf_map_lookup_and_delete_elem: reads and removes one entry atomically; 0 or a negative errno. */
    public static int mapLookupAndDelete(int fd, MemorySegment key, MemorySegment value) {
        try {
            int rc = (int) MAP_LOOKUP_AND_DELETE.invokeExact(CALL_STATE_BUF.get(), fd, key, value);
            return rc < 0 ? -lastErrno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment ringBufferNew(int mapFd, MemorySegment sampleCb, MemorySegment ctx) {
        try {
            return (MemorySegment)
                    RING_BUFFER_NEW.invokeExact(CALL_STATE_BUF.get(), mapFd, sampleCb, ctx, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ringBufferPoll(MemorySegment rb, int timeoutMs) {
        try {
            return (int) RING_BUFFER_POLL.invokeExact(rb, timeoutMs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ringBufferConsume(MemorySegment rb) {
        try {
            return (int) RING_BUFFER_CONSUME.invokeExact(rb);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void ringBufferFree(MemorySegment rb) {
        try {
            RING_BUFFER_FREE.invokeExact(rb);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment setPrint(MemorySegment fn) {
        try {
            return (MemorySegment) SET_PRINT.invokeExact(fn);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int numPossibleCpus() {
        try {
            return (int) NUM_POSSIBLE_CPUS.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An upcall stub bound to a receiver. */
    public static MemorySegment upcall(MethodHandle bound, FunctionDescriptor fd, Arena arena) {
        return LINKER.upcallStub(bound, fd, arena);
    }

    static String cString(MemorySegment p) {
        if (p.equals(MemorySegment.NULL)) {
            return null;
        }
        return p.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
