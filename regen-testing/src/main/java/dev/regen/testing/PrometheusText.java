package dev.regen.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it rejects what a
 * Prometheus server would (bad names, bad escapes, a sample before or outside its family's
 * {@code # TYPE}, duplicate series, a histogram whose buckets are not cumulative or whose
 * {@code +Inf} bucket differs from {@code _count}). No Java parser of the format is published on Maven
 * Central (the Prometheus Java client only writes it), hence this one, written from the format's
 * specification.
 */
public final class PrometheusText {
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final List<String> TYPES = List.of("counter", "gauge", "histogram", "summary", "untyped");

    /** One sample: the series' name and labels, and its value. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    /** A parsed exposition. */
    public record Exposition(Map<String, String> types, Map<String, String> help, List<Sample> samples) {

        /** The value of the series {@code name} with exactly {@code labels} (name, value, …), or NaN if absent. */
        public double value(String name, String... labels) {
            Map<String, String> want = new TreeMap<>();
            for (int i = 0; i < labels.length; i += 2) {
                want.put(labels[i], labels[i + 1]);
            }
            for (Sample s : samples) {
                if (s.name().equals(name) && s.labels().equals(want)) {
                    return s.value();
                }
            }
            return Double.NaN;
        }

        /** Whether a series of that name exists. */
        public boolean has(String name) {
            return samples.stream().anyMatch(s -> s.name().equals(name));
        }
    }

    private PrometheusText() {}

    /**
     * Parses a text exposition, checking it follows the format.
     *
     * @throws IllegalArgumentException naming the line of the first violation
     */
    public static Exposition parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, String> help = new HashMap<>();
        List<Sample> samples = new ArrayList<>();
        Map<String, Boolean> seen = new HashMap<>();
        Map<String, String> familyOfSeries = new HashMap<>();
        String currentFamily = null;
        List<String> closed = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            int lineNo = n + 1;
            if (line.isEmpty()) {
                if (n != lines.length - 1) {
                    continue;
                }
                break;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    String family = parts[2];
                    check(METRIC_NAME.matcher(family).matches(), lineNo, "bad metric name " + family);
                    if (parts[1].equals("TYPE")) {
                        check(parts.length == 4 && TYPES.contains(parts[3]), lineNo, "bad type: " + line);
                        check(!types.containsKey(family), lineNo, "second TYPE for " + family);
                        check(
                                !familyOfSeries.containsValue(family) && !seen.containsKey(family),
                                lineNo,
                                "TYPE after samples of " + family);
                        types.put(family, parts[3]);
                    } else {
                        check(!help.containsKey(family), lineNo, "second HELP for " + family);
                        help.put(family, parts.length == 4 ? unescapeHelp(parts[3], lineNo) : "");
                    }
                    if (!family.equals(currentFamily)) {
                        check(!closed.contains(family), lineNo, "family " + family + " is split in two groups");
                        if (currentFamily != null) {
                            closed.add(currentFamily);
                        }
                        currentFamily = family;
                    }
                }
                continue;
            }
            Sample s = sample(line, lineNo);
            String family = familyOf(s.name(), types);
            check(family != null || !types.containsKey(s.name()), lineNo, "sample outside its family: " + s.name());
            String fam = family != null ? family : s.name();
            if (!fam.equals(currentFamily)) {
                check(!closed.contains(fam), lineNo, "family " + fam + " is split in two groups");
                if (currentFamily != null) {
                    closed.add(currentFamily);
                }
                currentFamily = fam;
            }
            String id = s.name() + s.labels();
            check(seen.put(id, Boolean.TRUE) == null, lineNo, "duplicate series " + id);
            familyOfSeries.put(id, fam);
            samples.add(s);
        }
        Exposition e = new Exposition(
                Collections.unmodifiableMap(types),
                Collections.unmodifiableMap(help),
                Collections.unmodifiableList(samples));
        checkHistograms(e);
        return e;
    }

    /** The family a sample belongs to: its name, or its name without a histogram/summary suffix. */
    private static String familyOf(String name, Map<String, String> types) {
        if (types.containsKey(name)) {
            String t = types.get(name);
            return t.equals("histogram") ? null : name; // a histogram has no sample under its bare name
        }
        for (String suffix : List.of("_bucket", "_count", "_sum")) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                String t = types.get(base);
                if ("histogram".equals(t) || ("summary".equals(t) && !suffix.equals("_bucket"))) {
                    return base;
                }
            }
        }
        return null;
    }

    private static Sample sample(String line, int lineNo) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        check(METRIC_NAME.matcher(name).matches(), lineNo, "bad metric name \"" + name + "\"");
        Map<String, String> labels = new TreeMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                check(i < line.length(), lineNo, "unterminated labels");
                if (line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                check(eq > i, lineNo, "label without =");
                String label = line.substring(i, eq);
                check(LABEL_NAME.matcher(label).matches(), lineNo, "bad label name \"" + label + "\"");
                check(eq + 1 < line.length() && line.charAt(eq + 1) == '"', lineNo, "label value not quoted");
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                while (true) {
                    check(j < line.length(), lineNo, "unterminated label value");
                    char c = line.charAt(j);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        check(j + 1 < line.length(), lineNo, "bad escape");
                        char e = line.charAt(j + 1);
                        check(e == '\\' || e == '"' || e == 'n', lineNo, "bad escape \\" + e);
                        value.append(e == 'n' ? '\n' : e);
                        j += 2;
                        continue;
                    }
                    value.append(c);
                    j++;
                }
                check(labels.put(label, value.toString()) == null, lineNo, "label " + label + " given twice");
                i = j + 1;
                if (i < line.length() && line.charAt(i) == ',') {
                    i++;
                }
            }
        }
        check(i < line.length() && line.charAt(i) == ' ', lineNo, "no value");
        String[] rest = line.substring(i).trim().split(" +", -1);
        check(rest.length == 1 || rest.length == 2, lineNo, "value and at most a timestamp expected");
        double value = number(rest[0], lineNo);
        if (rest.length == 2) {
            try {
                Long.parseLong(rest[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("line " + lineNo + ": bad timestamp " + rest[1]);
            }
        }
        return new Sample(name, Collections.unmodifiableMap(labels), value);
    }

    private static double number(String s, int lineNo) {
        return switch (s) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> {
                try {
                    yield Double.parseDouble(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("line " + lineNo + ": bad value " + s);
                }
            }
        };
    }

    private static String unescapeHelp(String s, int lineNo) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                check(i + 1 < s.length(), lineNo, "bad escape in HELP");
                char e = s.charAt(++i);
                check(e == '\\' || e == 'n', lineNo, "bad escape in HELP \\" + e);
                b.append(e == 'n' ? '\n' : e);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static void checkHistograms(Exposition e) {
        for (Map.Entry<String, String> t : e.types().entrySet()) {
            if (!t.getValue().equals("histogram")) {
                continue;
            }
            String family = t.getKey();
            Map<Map<String, String>, TreeMap<Double, Double>> buckets = new HashMap<>();
            for (Sample s : e.samples()) {
                if (s.name().equals(family + "_bucket")) {
                    Map<String, String> rest = new TreeMap<>(s.labels());
                    String le = rest.remove("le");
                    if (le == null) {
                        throw new IllegalArgumentException(family + "_bucket without le");
                    }
                    buckets.computeIfAbsent(rest, k -> new TreeMap<>()).put(number(le, 0), s.value());
                }
            }
            for (Map.Entry<Map<String, String>, TreeMap<Double, Double>> b : buckets.entrySet()) {
                double previous = 0;
                for (double v : b.getValue().values()) {
                    if (v < previous) {
                        throw new IllegalArgumentException(family + b.getKey() + ": buckets are not cumulative");
                    }
                    previous = v;
                }
                Double inf = b.getValue().get(Double.POSITIVE_INFINITY);
                if (inf == null) {
                    throw new IllegalArgumentException(family + b.getKey() + ": no +Inf bucket");
                }
                String[] labels = b.getKey().entrySet().stream()
                        .flatMap(x -> java.util.stream.Stream.of(x.getKey(), x.getValue()))
                        .toArray(String[]::new);
                double count = e.value(family + "_count", labels);
                if (count != inf) {
                    throw new IllegalArgumentException(
                            family + b.getKey() + ": +Inf bucket " + inf + " != _count " + count);
                }
            }
        }
    }

    private static void check(boolean ok, int line, String message) {
        if (!ok) {
            throw new IllegalArgumentException("line " + line + ": " + message);
        }
    }
}
