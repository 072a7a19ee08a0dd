package io.sockflow.jobs;

import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * Tests only: a metric reporter that keeps the watermark gauges of a local job (each operator's input and output
 * watermark, the source's per-split watermarks and idle time) where a test can read them while the job runs.
 */
public final class WatermarkProbe implements MetricReporter {
    private static final Map<String, Gauge<?>> GAUGES = new ConcurrentHashMap<>();

    /** The configuration that installs the probe in a local environment. */
    public static Configuration install(Configuration conf) {
        conf.setString("metrics.reporter.wmprobe.factory.class", Factory.class.getName());
        return conf;
    }

    public static void clear() {
        GAUGES.clear();
    }

    /** Every watermark gauge now: "operator[subtask].name" to its value. */
    public static Map<String, Object> now() {
        Map<String, Object> out = new TreeMap<>();
        GAUGES.forEach((k, g) -> {
            try {
                out.put(k, g.getValue());
            } catch (RuntimeException e) {
                out.put(k, "?");
            }
        });
        return out;
    }

    /** The input watermark of the named operator's subtasks (the lowest of them), or null if not reported. */
    public static Long inputWatermark(String operator) {
        Long low = null;
        for (Map.Entry<String, Object> e : now().entrySet()) {
            if (e.getKey().startsWith(operator + "[") && e.getKey().endsWith("].currentInputWatermark")) {
                long v = ((Number) e.getValue()).longValue();
                low = low == null ? v : Math.min(low, v);
            }
        }
        return low;
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        if (!(metric instanceof Gauge<?> g)) {
            return;
        }
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        if (!lower.contains("watermark") && !lower.contains("idletime")) {
            return;
        }
        Map<String, String> v = group.getAllVariables();
        String op = v.getOrDefault("<operator_name>", v.getOrDefault("<task_name>", "?"));
        String sub = v.getOrDefault("<subtask_index>", "?");
        String scope = String.join(".", group.getScopeComponents());
        // the per-split groups sit below the operator's: keep what follows the subtask index
        String[] parts = scope.split("\\.");
        StringBuilder tail = new StringBuilder();
        boolean after = false;
        for (String p : parts) {
            if (after) {
                tail.append(p).append('.');
            }
            if (p.equals(sub)) {
                after = true;
            }
        }
        String key = op + "[" + sub + "]." + tail + name;
        if (!v.containsKey("<operator_name>")) {
            key = "task:" + key;
        }
        GAUGES.put(key, g);
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        GAUGES.values().remove(metric);
    }

    /** Made by Flink from the configuration. */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new WatermarkProbe();
        }
    }
}
