package dev.retort.testing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a valid input, the moves a coverage-guided fuzzer makes most often: bit flips,
 * boundary bytes, cut, repeated and inserted ranges, and — where the input is text — numbers swapped for
 * boundary values and brackets nested deep. The same seed gives the same input, so a failure replays.
 */
final class Mutator {
    private static final long[] NUMBERS = {0, -1, 1, 2, 7, 255, 65535, 65536, Integer.MAX_VALUE,
        (long) Integer.MAX_VALUE + 1, Integer.MIN_VALUE, 4294967295L, 99999999999L, Long.MAX_VALUE, 1_000_000_000};
    private static final byte[] BYTES = {0, -1, 0x7f, (byte) 0x80, '[', '(', '{', '"', '\'', ',', ':', '-', '9', '\n'};

    private Mutator() {}

    /** One to four mutations of {@code seed}, chosen by {@code rng}. */
    static byte[] mutate(byte[] seed, SplittableRandom rng) {
        byte[] b = seed.clone();
        int rounds = 1 + rng.nextInt(4);
        for (int r = 0; r < rounds; r++) {
            b = once(b, rng);
        }
        return b;
    }

    private static byte[] once(byte[] b, SplittableRandom rng) {
        if (b.length == 0) {
            return new byte[] {BYTES[rng.nextInt(BYTES.length)]};
        }
        int at = rng.nextInt(b.length);
        switch (rng.nextInt(9)) {
            case 0 -> b[at] ^= (byte) (1 << rng.nextInt(8));
            case 1 -> b[at] = BYTES[rng.nextInt(BYTES.length)];
            case 2 -> {
                return Arrays.copyOf(b, at); // truncated
            }
            case 3 -> { // a range deleted
                int end = Math.min(b.length, at + 1 + rng.nextInt(16));
                byte[] out = new byte[b.length - (end - at)];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, end, out, at, b.length - end);
                return out;
            }
            case 4 -> { // a range repeated
                int length = Math.min(b.length - at, 1 + rng.nextInt(32));
                return insert(b, at, Arrays.copyOfRange(b, at, at + length), 1 + rng.nextInt(64));
            }
            case 5 -> { // random bytes inserted
                byte[] noise = new byte[1 + rng.nextInt(8)];
                for (int i = 0; i < noise.length; i++) {
                    noise[i] = (byte) rng.nextInt(256);
                }
                return insert(b, at, noise, 1);
            }
            case 6 -> { // a little-endian or big-endian word set to a boundary value
                long v = NUMBERS[rng.nextInt(NUMBERS.length)];
                int width = rng.nextBoolean() ? 4 : 8;
                boolean little = rng.nextBoolean();
                for (int i = 0; i < width && at + i < b.length; i++) {
                    int shift = 8 * (little ? i : width - 1 - i);
                    b[at + i] = (byte) (v >>> shift);
                }
            }
            case 7 -> {
                return replaceNumber(b, rng);
            }
            default -> { // brackets nested deep
                byte open = BYTES[3 + rng.nextInt(3)];
                byte close = (byte) (open == '[' ? ']' : open == '(' ? ')' : '}');
                int depth = 1 + rng.nextInt(5000);
                byte[] nest = new byte[2 * depth];
                Arrays.fill(nest, 0, depth, open);
                Arrays.fill(nest, depth, 2 * depth, close);
                return insert(b, at, nest, 1);
            }
        }
        return b;
    }

    /** The digits of one number in the text replaced by a boundary value (text inputs: headers, JSON). */
    private static byte[] replaceNumber(byte[] b, SplittableRandom rng) {
        String text = new String(b, StandardCharsets.ISO_8859_1);
        int start = rng.nextInt(text.length());
        while (start < text.length() && !Character.isDigit(text.charAt(start))) {
            start++;
        }
        if (start == text.length()) {
            return b;
        }
        int end = start;
        while (end < text.length() && Character.isDigit(text.charAt(end))) {
            end++;
        }
        String value = rng.nextInt(4) == 0 ? "1e" + rng.nextInt(400) : Long.toString(NUMBERS[rng.nextInt(NUMBERS.length)]);
        return (text.substring(0, start) + value + text.substring(end)).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] insert(byte[] b, int at, byte[] piece, int times) {
        byte[] out = new byte[b.length + piece.length * times];
        System.arraycopy(b, 0, out, 0, at);
        for (int t = 0; t < times; t++) {
            System.arraycopy(piece, 0, out, at + t * piece.length, piece.length);
        }
        System.arraycopy(b, at, out, at + piece.length * times, b.length - at);
        return out;
    }
}
