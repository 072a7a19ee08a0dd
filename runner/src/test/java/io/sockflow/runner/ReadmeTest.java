package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The README as the front door: short, the two commands first, a way to every page; every link between the pages
 * leads somewhere; and its commands run here. (Its record reference moved to docs/data-model.md, which
 * DataModelDocsTest in schemas holds to the Avro schemas.)
 */
@Tag("root")
class ReadmeTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static String readme() throws Exception {
        return Files.readString(ROOT.resolve("README.md"));
    }

    /** Every page of the documentation: the README, HACKING.md and docs/. */
    static List<Path> pages() throws Exception {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("HACKING.md")));
        try (var docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
    static String anchor(String heading) {
        return heading.strip()
                .toLowerCase(Locale.ROOT)
                .replaceAll("[^\\p{L}\\p{N} _-]", "")
                .replace(' ', '-');
    }

    static Set<String> anchors(Path page) throws Exception {
        Set<String> out = new HashSet<>();
        boolean code = false;
        for (String line : Files.readAllLines(page)) {
            if (line.startsWith("```")) {
                code = !code;
            } else if (!code && line.startsWith("#")) {
                out.add(anchor(line.replaceFirst("^#+", "")));
            }
        }
        return out;
    }

    @Test
    void theReadmeIsAFrontDoor() throws Exception {
        String readme = readme();
        assertTrue(
                readme.getBytes(StandardCharsets.UTF_8).length < 10 * 1024,
                "the README stays under 10 KB: " + readme.length());
        int block = readme.indexOf("```");
        String first = readme.substring(block, readme.indexOf("```", block + 3));
        assertTrue(
                first.contains("sudo ./sockflow up") && first.contains("sudo ./sockflow test"),
                "the two commands are the README's first code block");
        for (Path page : pages()) {
            if (!page.getFileName().toString().equals("README.md")) {
                String link = ROOT.relativize(page).toString();
                assertTrue(readme.contains("](" + link + ")"), "the README leads to " + link);
            }
        }
    }

    @Test
    void everyLinkBetweenThePagesLeadsSomewhere() throws Exception {
        Pattern link = Pattern.compile("\\]\\(([^)\\s]+)\\)");
        List<String> broken = new ArrayList<>();
        for (Path page : pages()) {
            Matcher m = link.matcher(Files.readString(page));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z]+:.*")) {
                    continue; // a URL: not checked here
                }
                int hash = target.indexOf('#');
                Path file = hash == 0
                        ? page
                        : page.getParent()
                                .resolve(hash < 0 ? target : target.substring(0, hash))
                                .normalize();
                String where = ROOT.relativize(page) + ": " + target;
                if (!Files.exists(file)) {
                    broken.add(where + " (no such file)");
                } else if (hash >= 0 && !anchors(file).contains(target.substring(hash + 1))) {
                    broken.add(where + " (no such heading)");
                }
            }
        }
        assertEquals(List.of(), broken);
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd)
                .directory(ROOT.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }

    @Test
    void theCommandsAtTheTopRun() throws Exception {
        String readme = readme();
        assertTrue(readme.contains("sudo ./sockflow up"), "the run command is at the top");
        assertTrue(readme.contains("sudo ./sockflow test"), "the test command is at the top");
        // the capture command as written in the README (as root here, so without sudo)
        String collect = readme.lines()
                .filter(l -> l.startsWith("sudo ./sockflow collect --output json"))
                .findFirst()
                .orElseThrow();
        List<String> cmd =
                new ArrayList<>(List.of(collect.replaceFirst("^sudo ", "").split(" ")));
        cmd.set(0, ROOT.resolve("sockflow").toString());
        // some traffic of this JVM while it captures (a quiet host has none)
        java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread traffic = new Thread(() -> {
            try (java.net.ServerSocket server = new java.net.ServerSocket(0)) {
                while (busy.get()) {
                    try (java.net.Socket c = new java.net.Socket("127.0.0.1", server.getLocalPort());
                            java.net.Socket a = server.accept()) {
                        c.getOutputStream().write(1);
                    }
                    Thread.sleep(200);
                }
            } catch (Exception ignored) {
                // the test ends
            }
        });
        traffic.start();
        String out;
        try {
            out = run(cmd.toArray(String[]::new));
        } finally {
            busy.set(false);
            traffic.join();
        }
        assertTrue(
                out.lines().anyMatch(l -> l.startsWith("{\"host\"")),
                "JSON events:\n" + out.substring(0, Math.min(2000, out.length())));
        assertTrue(run(ROOT.resolve("sockflow").toString(), "help").contains("up "));
        assertTrue(run(ROOT.resolve("sockflow").toString(), "up", "--help").contains("--replay"));
        assertTrue(run(ROOT.resolve("sockflow").toString(), "sql", "--help").contains("--warehouse"));
    }
}
