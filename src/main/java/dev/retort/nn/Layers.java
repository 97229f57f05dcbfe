package dev.retort.nn;

import dev.retort.backend.PoolSpec;
import dev.retort.tensor.Functional;
import dev.retort.tensor.Tensor;

/** The parameter-free layers: activations, pooling, reshaping and dropout. */
public final class Layers {
    private Layers() {}

    /** {@code max(x, 0)} element-wise. */
    public static final class ReLU extends Module {
        @Override
        public Tensor forward(Tensor input) {
            return input.relu();
        }
    }

    /** Maximum over square windows of [N, C, H, W]. */
    public static final class MaxPool2d extends Module {
        private final PoolSpec spec;

        /**
         * Windows of {@code kernel}², moved by {@code stride}, over an input padded by {@code padding} (padding never
         * wins).
         */
        public MaxPool2d(int kernel, int stride, int padding) {
            this.spec = new PoolSpec(kernel, kernel, stride, stride, padding, padding);
        }

        /** Non-overlapping windows: stride = kernel, no padding. */
        public MaxPool2d(int kernel) {
            this(kernel, kernel, 0);
        }

        @Override
        public Tensor forward(Tensor input) {
            return Functional.maxPool2d(input, spec);
        }

        @Override
        public String toString() {
            return "MaxPool2d(" + spec.kernelH() + ", stride " + spec.strideH() + ")";
        }
    }

    /** Mean over square windows of [N, C, H, W]. */
    public static final class AvgPool2d extends Module {
        private final PoolSpec spec;

        /**
         * Windows of {@code kernel}², moved by {@code stride}, over an input padded by {@code padding} with zeros that
         * count in the mean (PyTorch's default).
         */
        public AvgPool2d(int kernel, int stride, int padding) {
            this.spec = new PoolSpec(kernel, kernel, stride, stride, padding, padding);
        }

        @Override
        public Tensor forward(Tensor input) {
            return Functional.avgPool2d(input, spec);
        }

        @Override
        public String toString() {
            return "AvgPool2d(" + spec.kernelH() + ", stride " + spec.strideH() + ")";
        }
    }

    /** Mean over H and W: [N, C, H, W] → [N, C] (PyTorch's AdaptiveAvgPool2d(1) followed by flatten). */
    public static final class GlobalAvgPool2d extends Module {
        @Override
        public Tensor forward(Tensor input) {
            return Functional.globalAvgPool2d(input);
        }
    }

    /** Merges every dimension after the batch into one. */
    public static final class Flatten extends Module {
        @Override
        public Tensor forward(Tensor input) {
            return input.flatten(1);
        }
    }

    /**
     * Inverted dropout. Each call draws a fresh mask from (seed, call number), so a run replays
     * exactly from the same seed; {@link #randomState()} is what a checkpoint keeps to resume the
     * same sequence of masks (PyTorch keeps its generator's state the same way, outside the state dict).
     */
    public static final class Dropout extends Module {
        private final double p;
        private long seed;
        private long calls;

        /**
         * Zeroes each element with probability {@code p} in training mode (scaling the rest by 1/(1 − p)); its masks
         * are drawn from {@code seed}.
         */
        public Dropout(double p, long seed) {
            if (!(p >= 0 && p < 1)) {
                throw new IllegalArgumentException("Dropout: probability must be in [0, 1), got " + p);
            }
            this.p = p;
            this.seed = seed;
        }

        @Override
        public Tensor forward(Tensor input) {
            if (!isTraining()) {
                return input;
            }
            return Functional.dropout(input, p, true, dev.retort.backend.CounterRng.mix(seed + calls++));
        }

        /** The seed and the number of masks drawn so far. */
        public long[] randomState() {
            return new long[] {seed, calls};
        }

        /** Continues the sequence of masks that {@link #randomState()} described. */
        public void restoreRandomState(long seed, long calls) {
            if (calls < 0) {
                throw new IllegalArgumentException("Dropout: the number of masks drawn cannot be negative, got " + calls);
            }
            this.seed = seed;
            this.calls = calls;
        }

        @Override
        public String toString() {
            return "Dropout(" + p + ")";
        }
    }
}
