package dev.retort.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch golden vectors: one fixture file from the test classpath, {@code /golden/<file>}.
 *
 * <p>The fixtures are written by {@code src/test/python/make_golden.py} (see
 * {@code src/test/resources/golden/README.md}). A file is
 * {@code {"generator": "...", "torch": "<version>", "cases": [...]}}; each case has a name, params
 * and named tensors {@code {"shape": [...], "data": [flat row-major float64]}}. Loading validates
 * the structure strictly and names the file, case and field at fault.
 */
public final class Golden {

    /** A tensor of a case: its shape and its row-major data. A scalar has shape {@code []}. */
    public record Array(int[] shape, double[] data) {

        /** Number of elements. */
        public int size() {
            return data.length;
        }

        /** The data rounded to float32 (exact for the stored inputs). */
        public float[] toFloats() {
            float[] f = new float[data.length];
            for (int i = 0; i < data.length; i++) {
                f[i] = (float) data[i];
            }
            return f;
        }

        /** The single value of a one-element tensor (a scalar loss). */
        public double scalar() {
            if (data.length != 1) {
                throw new IllegalStateException("not a one-element tensor: shape " + Arrays.toString(shape));
            }
            return data[0];
        }

        /** The data as integers (class indices); throws when a value is not integral. */
        public int[] toInts() {
            int[] r = new int[data.length];
            for (int i = 0; i < data.length; i++) {
                if (data[i] != Math.rint(data[i]) || Math.abs(data[i]) > Integer.MAX_VALUE) {
                    throw new IllegalStateException("element " + i + " is not an integer: " + data[i]);
                }
                r[i] = (int) data[i];
            }
            return r;
        }

        @Override
        public String toString() {
            return "Array" + Arrays.toString(shape) + "(" + data.length + " values)";
        }
    }

    /** One golden case. */
    public record Case(String name, Map<String, Object> params, Map<String, Array> tensors) {

        /** The named tensor; throws, naming the case, when absent. */
        public Array tensor(String key) {
            Array a = tensors.get(key);
            if (a == null) {
                throw new IllegalArgumentException(
                        "golden case '" + name + "': no tensor '" + key + "' (has " + tensors.keySet() + ")");
            }
            return a;
        }

        /** The named parameter; throws, naming the case, when absent. */
        public Object param(String key) {
            if (!params.containsKey(key)) {
                throw new IllegalArgumentException(
                        "golden case '" + name + "': no param '" + key + "' (has " + params.keySet() + ")");
            }
            return params.get(key);
        }

        /** Whether the case has a tensor or a parameter of this name. */
        public boolean has(String key) {
            return tensors.containsKey(key) || params.containsKey(key);
        }

        public boolean hasTensor(String key) {
            return tensors.containsKey(key);
        }

        public boolean hasParam(String key) {
            return params.containsKey(key);
        }

        public double doubleParam(String key) {
            Object v = param(key);
            if (!(v instanceof Double d)) {
                throw bad(key, "a number", v);
            }
            return d;
        }

        public int intParam(String key) {
            return toInt(key, param(key));
        }

        /**
         * A two-element integer parameter such as a stride or padding: stored either as one int
         * (same for height and width) or as a list {@code [h, w]}.
         */
        public int[] pairParam(String key) {
            Object v = param(key);
            if (v instanceof List<?> list) {
                if (list.size() != 2) {
                    throw bad(key, "an int or a list of two ints", v);
                }
                return new int[] {toInt(key, list.get(0)), toInt(key, list.get(1))};
            }
            int i = toInt(key, v);
            return new int[] {i, i};
        }

        public String stringParam(String key) {
            Object v = param(key);
            if (!(v instanceof String s)) {
                throw bad(key, "a string", v);
            }
            return s;
        }

        public boolean boolParam(String key) {
            Object v = param(key);
            if (!(v instanceof Boolean b)) {
                throw bad(key, "a boolean", v);
            }
            return b;
        }

        /** A boolean parameter, or {@code fallback} when the case does not have it. */
        public boolean boolParam(String key, boolean fallback) {
            return params.containsKey(key) ? boolParam(key) : fallback;
        }

        private int toInt(String key, Object v) {
            if (!(v instanceof Double d) || d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw bad(key, "an integer", v);
            }
            return (int) d.doubleValue();
        }

        private IllegalArgumentException bad(String key, String expected, Object v) {
            return new IllegalArgumentException(
                    "golden case '" + name + "': param '" + key + "' is not " + expected + ": " + v);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final String file;
    private final String generator;
    private final String torchVersion;
    private final List<Case> cases;

    private Golden(String file, String generator, String torchVersion, List<Case> cases) {
        this.file = file;
        this.generator = generator;
        this.torchVersion = torchVersion;
        this.cases = cases;
    }

    /** Loads {@code /golden/<file>} from the classpath, e.g. {@code Golden.load("conv2d.json")}. */
    public static Golden load(String file) {
        String resource = "/golden/" + file;
        try (InputStream in = Golden.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("golden fixture not found on the classpath: " + resource);
            }
            return parse(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read golden fixture " + resource, e);
        }
    }

    /** Parses fixture text; {@code file} names it in error messages. */
    public static Golden parse(String file, String json) {
        Object root = MiniJson.parse(json, file);
        Map<String, Object> top = asObject(root, file);
        String generator = asString(top.get("generator"), file + ": \"generator\"");
        String torch = asString(top.get("torch"), file + ": \"torch\"");
        List<?> rawCases = asList(top.get("cases"), file + ": \"cases\"");
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < rawCases.size(); i++) {
            cases.add(parseCase(file, i, rawCases.get(i)));
        }
        return new Golden(file, generator, torch, Collections.unmodifiableList(cases));
    }

    private static Case parseCase(String file, int index, Object raw) {
        String where = file + ": cases[" + index + "]";
        Map<String, Object> c = asObject(raw, where);
        String name = asString(c.get("name"), where + ".name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException(where + ": empty name");
        }
        where = file + ": case '" + name + "'";
        Map<String, Object> params = c.containsKey("params") ? asObject(c.get("params"), where + ".params") : Map.of();
        Map<String, Object> rawTensors = asObject(c.get("tensors"), where + ".tensors");
        Map<String, Array> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : rawTensors.entrySet()) {
            tensors.put(e.getKey(), parseArray(where + ": tensor '" + e.getKey() + "'", e.getValue()));
        }
        return new Case(name, params, Collections.unmodifiableMap(tensors));
    }

    private static Array parseArray(String where, Object raw) {
        Map<String, Object> t = asObject(raw, where);
        List<?> shapeList = asList(t.get("shape"), where + ".shape");
        List<?> dataList = asList(t.get("data"), where + ".data");
        int[] shape = new int[shapeList.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            Object v = shapeList.get(i);
            if (!(v instanceof Double d) || d != Math.rint(d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + ".shape[" + i + "] is not a dimension: " + v);
            }
            shape[i] = (int) d.doubleValue();
            count *= shape[i];
        }
        if (count != dataList.size()) {
            throw new IllegalArgumentException(where + ": shape " + Arrays.toString(shape) + " holds " + count
                    + " values but data has " + dataList.size());
        }
        double[] data = new double[dataList.size()];
        for (int i = 0; i < data.length; i++) {
            Object v = dataList.get(i);
            if (!(v instanceof Double d)) {
                throw new IllegalArgumentException(where + ".data[" + i + "] is not a number: " + v);
            }
            data[i] = d;
        }
        return new Array(shape, data);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asObject(Object v, String where) {
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException(where + ": expected an object, got " + kind(v));
        }
        return (Map<String, Object>) v;
    }

    private static List<?> asList(Object v, String where) {
        if (!(v instanceof List<?> l)) {
            throw new IllegalArgumentException(where + ": expected an array, got " + kind(v));
        }
        return l;
    }

    private static String asString(Object v, String where) {
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(where + ": expected a string, got " + kind(v));
        }
        return s;
    }

    private static String kind(Object v) {
        if (v == null) {
            return "null or nothing";
        }
        if (v instanceof Map) {
            return "an object";
        }
        if (v instanceof List) {
            return "an array";
        }
        return v.getClass().getSimpleName() + " " + v;
    }

    public String file() {
        return file;
    }

    public String generator() {
        return generator;
    }

    public String torchVersion() {
        return torchVersion;
    }

    public List<Case> cases() {
        return cases;
    }

    /** The case of this name; throws, naming the file, when absent. */
    public Case get(String name) {
        for (Case c : cases) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException(file + ": no golden case '" + name + "'");
    }
}
