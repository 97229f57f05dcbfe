package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.UnaryOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The op codes are one list on both sides, checked without a compiler: kernels/op_codes.cuh names every UnaryOp and
 * BinaryOp with the code its enum carries and nothing else, the codes are distinct, and elementwise.cu has a case
 * of its own for every one (a code without a case computes NaN, never another op's result).
 */
class OpCodesTest {
    private static final Path KERNELS = Path.of("kernels");

    /** NAME → code of the header's {@code PREFIX_NAME = code,} lines. */
    private static Map<String, Integer> header(String prefix) throws IOException {
        Path file = KERNELS.resolve("op_codes.cuh");
        assumeTrue(Files.isRegularFile(file), "kernels/op_codes.cuh not found from " + Path.of("").toAbsolutePath());
        Map<String, Integer> codes = new LinkedHashMap<>();
        Matcher m = Pattern.compile("\\b" + prefix + "_(\\w+)\\s*=\\s*(\\d+)").matcher(Files.readString(file));
        while (m.find()) {
            assertEquals(null, codes.put(m.group(1), Integer.parseInt(m.group(2))), prefix + "_" + m.group(1) + " twice");
        }
        return codes;
    }

    private static <E extends Enum<E>> Map<String, Integer> java(E[] values, java.util.function.ToIntFunction<E> code) {
        Map<String, Integer> codes = new LinkedHashMap<>();
        for (E op : values) {
            codes.put(op.name(), code.applyAsInt(op));
        }
        return codes;
    }

    @Test
    void theHeaderListsEveryEnumValueWithItsCode() throws IOException {
        assertEquals(java(UnaryOp.values(), UnaryOp::code), header("UOP"));
        assertEquals(java(BinaryOp.values(), BinaryOp::code), header("BOP"));
    }

    @Test
    void codesAreDistinct() {
        assertEquals(UnaryOp.values().length, java(UnaryOp.values(), UnaryOp::code).values().stream().distinct()
                .count());
        assertEquals(BinaryOp.values().length, java(BinaryOp.values(), BinaryOp::code).values().stream().distinct()
                .count());
    }

    @Test
    void theElementwiseKernelsHaveACaseForEveryCode() throws IOException {
        Path file = KERNELS.resolve("elementwise.cu");
        assumeTrue(Files.isRegularFile(file), "kernels/elementwise.cu not found");
        String source = Files.readString(file);
        assertTrue(source.contains("#include \"op_codes.cuh\""), "elementwise.cu includes op_codes.cuh");
        for (UnaryOp op : UnaryOp.values()) {
            assertTrue(source.contains("case UOP_" + op.name() + ":"), "a case for UOP_" + op.name());
        }
        for (BinaryOp op : BinaryOp.values()) {
            assertTrue(source.contains("case BOP_" + op.name() + ":"), "a case for BOP_" + op.name());
        }
        assertTrue(!Pattern.compile("case \\d+:").matcher(source).find(), "ops are switched on by name, not number");
    }
}
