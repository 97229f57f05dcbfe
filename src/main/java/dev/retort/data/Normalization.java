package dev.retort.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How raw pixels (0..255) become a network's inputs: scaled to [0, 1], then {@code (x − mean[c]) / std[c]} per
 * channel. A run records the one its data was loaded with (config.json's {@code data.normalization} and the
 * weights' metadata), so that {@code retort predict} feeds new images to the network as it saw its training images.
 * One mean and deviation apply to every channel.
 *
 * @param mean per-channel means of the pixels in [0, 1], or one for every channel
 * @param std  per-channel standard deviations, or one for every channel
 */
public record Normalization(float[] mean, float[] std) {
    /** The safetensors metadata key of the means: comma-separated floats, one per channel (or one for all). */
    public static final String MEAN_METADATA = "input_mean";
    /** The safetensors metadata key of the standard deviations, as {@link #MEAN_METADATA}. */
    public static final String STD_METADATA = "input_std";

    /** Checks the lists: as long as each other (or one of them a single value), deviations positive and finite. */
    public Normalization {
        if (mean.length == 0 || std.length == 0
                || (mean.length != std.length && mean.length != 1 && std.length != 1)) {
            throw new IllegalArgumentException("a normalisation needs one mean and one standard deviation per channel "
                    + "(or one of each for all), got " + mean.length + " means and " + std.length + " deviations");
        }
        for (float m : mean) {
            if (!Float.isFinite(m)) {
                throw new IllegalArgumentException("a normalisation's mean must be finite, got " + m);
            }
        }
        for (float s : std) {
            if (!(s > 0) || !Float.isFinite(s)) {
                throw new IllegalArgumentException("a normalisation's standard deviation must be positive and finite, "
                        + "got " + s);
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** What a published dataset's loader uses ({@code fashion-mnist}, {@code mnist}, {@code cifar-10}), or null. */
    public static Normalization of(String dataset) {
        return switch (dataset.toLowerCase(Locale.ROOT)) {
            case "fashion-mnist", "mnist" -> new Normalization(new float[] {FashionMnist.MEAN},
                    new float[] {FashionMnist.STD});
            case "cifar-10" -> new Normalization(Cifar10.MEAN, Cifar10.STD);
            default -> null;
        };
    }

    /** How many channels it names: 1 applies to any number. */
    public int channels() {
        return Math.max(mean.length, std.length);
    }

    /** One pixel 0..255 of channel {@code c}, with the dataset loaders' float arithmetic (bit-identical to them). */
    public float apply(int pixel, int c) {
        return (pixel / 255f - mean[mean.length == 1 ? 0 : c]) / std[std.length == 1 ? 0 : c];
    }

    /**
     * Normalises raw pixels in place: examples laid out [C, H, W] with {@code plane} = H × W values per channel.
     *
     * @throws IllegalArgumentException when the statistics name another number of channels than {@code channels}
     */
    public void applyInPlace(float[] x, int channels, int plane) {
        if (channels() != 1 && channels() != channels) {
            throw new IllegalArgumentException("the normalisation has statistics for " + channels() + " channels, the "
                    + "network takes " + channels);
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (x[i] / 255f - mean[mean.length == 1 ? 0 : (i / plane) % channels])
                    / std[std.length == 1 ? 0 : (i / plane) % channels];
        }
    }

    /** The weights-file metadata entries. */
    public Map<String, String> toMetadata() {
        return Map.of(MEAN_METADATA, join(mean), STD_METADATA, join(std));
    }

    /** The statistics a weights file records, or null when it records none. */
    public static Normalization fromMetadata(Map<String, String> metadata) {
        String m = metadata.get(MEAN_METADATA);
        String s = metadata.get(STD_METADATA);
        if (m == null || s == null) {
            return null;
        }
        return parse(m, s);
    }

    /** From comma-separated lists, as the metadata and the {@code --mean} and {@code --std} options give them. */
    public static Normalization parse(String means, String stds) {
        return new Normalization(floats(means, "mean"), floats(stds, "standard deviation"));
    }

    /** For config.json: {@code {"mean": [...], "std": [...]}}. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("mean", list(mean));
        map.put("std", list(std));
        return map;
    }

    /** One line for logs: {@code mean 0.286, std 0.353}. */
    public String describe() {
        return "mean " + join(mean) + ", std " + join(std);
    }

    private static float[] floats(String text, String what) {
        String[] parts = text.split(",", -1);
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Float.parseFloat(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not a list of numbers (" + what + " per channel, "
                        + "comma-separated)");
            }
        }
        return out;
    }

    private static String join(float[] values) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            // Float.toString round-trips: the reader gets the very floats the loader used.
            s.append(i == 0 ? "" : ",").append(Float.toString(values[i]));
        }
        return s.toString();
    }

    private static List<Float> list(float[] values) {
        List<Float> out = new ArrayList<>();
        for (float v : values) {
            out.add(v);
        }
        return out;
    }
}
