package io.sockflow.collector.bpf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.collector.capture.Capture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The Java mirror of bpf/sockflow.h held against the BTF of the object the collector actually loads. */
class EventLayoutTest {
    static Map<Integer, JsonNode> types = new HashMap<>();

    @BeforeAll
    static void readBtf() throws Exception {
        Path obj = Files.createTempFile("sockflow", ".bpf.o");
        try (InputStream in = Capture.class.getResourceAsStream(Capture.OBJECT_RESOURCE)) {
            assertNotNull(in, "the object is packaged with the collector");
            Files.write(obj, in.readAllBytes());
        }
        Process p = new ProcessBuilder(bpftool(), "btf", "dump", "file", obj.toString(), "-j")
                .redirectErrorStream(false).start();
        JsonNode root = new ObjectMapper().readTree(p.getInputStream());
        assertEquals(0, p.waitFor());
        Files.delete(obj);
        for (JsonNode t : root.get("types")) {
            types.put(t.get("id").asInt(), t);
        }
    }

    static String bpftool() {
        for (String c : List.of("/usr/sbin/bpftool", "/usr/bin/bpftool", "/usr/local/sbin/bpftool")) {
            if (Files.isExecutable(Path.of(c))) {
                return c;
            }
        }
        return "bpftool";
    }

    static JsonNode struct(String name) {
        return types.values().stream()
                .filter(t -> t.get("kind").asText().equals("STRUCT") && name.equals(t.path("name").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no struct " + name + " in the object's BTF"));
    }

    static void assertSame(GroupLayout java, String cName) {
        JsonNode c = struct(cName);
        List<String> cFields = new ArrayList<>();
        for (JsonNode m : c.get("members")) {
            String name = m.get("name").asText();
            cFields.add(name);
            long bits = m.get("bits_offset").asLong();
            assertEquals(0, bits % 8, name + " is not byte-aligned");
            assertEquals(bits / 8, java.byteOffset(MemoryLayout.PathElement.groupElement(name)),
                    cName + "." + name + " is at a different offset in Java");
        }
        List<String> javaFields = java.memberLayouts().stream().filter(l -> l.name().isPresent())
                .map(l -> l.name().get()).toList();
        assertEquals(cFields, javaFields, cName + ": same fields in the same order");
        assertEquals(c.get("size").asLong(), java.byteSize(), cName + " size");
    }

    @Test
    void eventRecordMatchesTheKernelSide() {
        assertSame(EventLayout.EVENT, "sf_event");
        assertEquals(EventLayout.SIZE % 8, 0, "records stay 8-byte multiples");
    }

    @Test
    void aggregatedRecordsMatchTheKernelSide() {
        assertSame(EventLayout.RTT, "sf_rtt");
        assertSame(EventLayout.DROP_KEY, "sf_drop_key");
        assertSame(EventLayout.NETDEV_KEY, "sf_netdev_key");
        assertSame(EventLayout.NETDEV, "sf_netdev");
        assertSame(EventLayout.XDP_KEY, "sf_xdp_key");
    }

    @Test
    void countersMatchTheKernelSide() {
        assertSame(EventLayout.COUNTERS, "sf_counters");
    }

    @Test
    void configMatchesTheKernelSideAndIsAloneInRodata() {
        assertSame(EventLayout.CONFIG, "sf_config");
        JsonNode rodata = types.values().stream()
                .filter(t -> t.get("kind").asText().equals("DATASEC") && t.path("name").asText().equals(".rodata"))
                .findFirst().orElseThrow();
        JsonNode vars = rodata.get("vars");
        assertEquals(1, vars.size(), "sf_cfg is the only const volatile global");
        assertEquals(0, vars.get(0).get("offset").asInt());
        JsonNode var = types.get(vars.get(0).get("type_id").asInt());
        assertEquals("sf_cfg", var.get("name").asText());
    }
}
