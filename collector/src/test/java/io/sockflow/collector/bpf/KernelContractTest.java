package io.sockflow.collector.bpf;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.collector.decode.Kinds;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bpf/sockflow.h, the Java side and the schema held together: the collector takes every layout and enum value from
 * the object's BTF by name (KernelContract), so what can still disagree is names and meanings. Each test fails on
 * one way they can drift apart.
 */
class KernelContractTest {
    static final Path HEADER = Path.of("../bpf/sockflow.h");
    static Map<Integer, JsonNode> bpftool = new HashMap<>();
    static KernelContract contract;

    @BeforeAll
    static void read() throws Exception {
        contract = KernelContract.get();
        Path obj = Files.createTempFile("sockflow", ".bpf.o");
        Files.write(obj, KernelContract.objectBytes(KernelContract.OBJECT));
        Process p = new ProcessBuilder(bpftool(), "btf", "dump", "file", obj.toString(), "-j").start();
        JsonNode root = new ObjectMapper().readTree(p.getInputStream());
        assertEquals(0, p.waitFor());
        Files.delete(obj);
        for (JsonNode t : root.get("types")) {
            bpftool.put(t.get("id").asInt(), t);
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

    /** Every enum of the header, parsed from its text: name to (constant to value). */
    static Map<String, Map<String, Long>> headerEnums() throws Exception {
        String text = Files.readString(HEADER).replaceAll("(?s)/\\*.*?\\*/", "");
        Map<String, Map<String, Long>> enums = new LinkedHashMap<>();
        Matcher m = Pattern.compile("enum\\s+(sf_\\w+)\\s*\\{([^}]*)}").matcher(text);
        Pattern shift = Pattern.compile("(\\d+)\\s*<<\\s*(\\d+)");
        while (m.find()) {
            Map<String, Long> values = new LinkedHashMap<>();
            for (String item : m.group(2).split(",")) {
                String[] kv = item.trim().split("=");
                if (kv.length == 2) {
                    String v = kv[1].trim();
                    Matcher s = shift.matcher(v);
                    values.put(
                            kv[0].trim(),
                            s.matches() ? Long.parseLong(s.group(1)) << Long.parseLong(s.group(2)) : Long.decode(v));
                }
            }
            enums.put(m.group(1), values);
        }
        return enums;
    }

    @Test
    void everyEnumOfTheHeaderIsInTheObjectWithTheSameValues() throws Exception {
        Map<String, Map<String, Long>> header = headerEnums();
        assertTrue(
                header.keySet()
                        .containsAll(
                                List.of("sf_kind", "sf_cause", "sf_flag", "sf_group", "sf_data_kind", "sf_limits")),
                header.keySet().toString());
        for (Map.Entry<String, Map<String, Long>> e : header.entrySet()) {
            assertEquals(
                    e.getValue(),
                    contract.enumValues(e.getKey()),
                    e.getKey()
                            + " in the object's BTF differs from bpf/sockflow.h (is it anchored in sockflow.bpf.c?)");
        }
    }

    @Test
    void everyKernelKindIsASchemaKindOfTheSameName() throws Exception {
        for (Map.Entry<String, Long> k : headerEnums().get("sf_kind").entrySet()) {
            if (k.getKey().equals("SF_KIND_FIRST_KERNEL")) {
                continue;
            }
            EventKind schema = Kinds.of(k.getValue().intValue());
            assertEquals(
                    k.getKey().substring("SF_KIND_".length()),
                    schema.name(),
                    k.getKey() + " = " + k.getValue() + " has no EventKind of its name in SocketEvent.avsc");
        }
    }

    @Test
    void everyCauseIsDocumentedInTheSchemas() throws Exception {
        String eventDoc = SocketEvent.getClassSchema().getField("cause").doc();
        String lifecycleDoc =
                SocketLifecycle.getClassSchema().getField("releaseCause").doc();
        for (Map.Entry<String, Long> c : headerEnums().get("sf_cause").entrySet()) {
            if (c.getValue() == 0) {
                continue;
            }
            String name = c.getKey().substring("SF_CAUSE_".length());
            assertEquals(name, Kinds.cause(c.getValue().intValue()));
            assertTrue(eventDoc.contains(name), "SocketEvent.cause's doc does not name " + name);
            assertTrue(lifecycleDoc.contains(name), "SocketLifecycle.releaseCause's doc does not name " + name);
        }
    }

    @Test
    void theBtfReaderAgreesWithBpftoolOnEveryRecord() {
        int structs = 0;
        for (JsonNode t : bpftool.values()) {
            String name = t.path("name").asText();
            if (!t.get("kind").asText().equals("STRUCT") || !name.startsWith("sf_")) {
                continue;
            }
            structs++;
            KernelContract.Struct s = contract.struct(name);
            assertEquals(t.get("size").asLong(), s.size(), name + " size");
            Map<String, Long> expected = new LinkedHashMap<>();
            for (JsonNode m : t.get("members")) {
                expected.put(m.get("name").asText(), m.get("bits_offset").asLong() / 8);
            }
            assertEquals(expected, s.offsets(), name + " members and offsets");
        }
        assertTrue(structs >= 8, "the records are in the object's BTF: " + structs);
    }

    @Test
    void bothObjectsCarryTheSameContract() {
        KernelContract compat = KernelContract.of(KernelContract.objectBytes(KernelContract.COMPAT_OBJECT));
        for (String s : List.of("sf_event", "sf_config", "sf_counters", "sf_rtt", "sf_rtt_key")) {
            assertEquals(contract.struct(s).offsets(), compat.struct(s).offsets(), s);
        }
        assertEquals(contract.enumValues("sf_kind"), compat.enumValues("sf_kind"));
    }

    @Test
    void recordsAreWholeWordsAndTheConfigIsAloneInRodata() {
        assertEquals(0, EventLayout.SIZE % 8, "records stay 8-byte multiples");
        JsonNode rodata = bpftool.values().stream()
                .filter(t -> t.get("kind").asText().equals("DATASEC")
                        && t.path("name").asText().equals(".rodata"))
                .findFirst()
                .orElseThrow();
        JsonNode vars = rodata.get("vars");
        assertEquals(1, vars.size(), "sf_cfg is the only const volatile global");
        assertEquals(0, vars.get(0).get("offset").asInt());
        assertEquals(
                "sf_cfg",
                bpftool.get(vars.get(0).get("type_id").asInt()).get("name").asText());
    }

    @Test
    void aNameTheJavaSideAsksForAndTheHeaderLacksFailsWithTheName() {
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> EventLayout.EVENT.offset("no_such_field"));
        assertTrue(e.getMessage().contains("sf_event has no member no_such_field"), e.getMessage());
        IllegalStateException k =
                assertThrows(IllegalStateException.class, () -> contract.value("sf_kind", "SF_KIND_NO_SUCH"));
        assertTrue(k.getMessage().contains("SF_KIND_NO_SUCH"), k.getMessage());
    }
}
