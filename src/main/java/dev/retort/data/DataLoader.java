package dev.retort.data;

import dev.retort.backend.Device;
import dev.retort.tensor.Tensor;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Mini-batches of a {@link Dataset}: a seeded shuffle per epoch, optional random crop and horizontal flip,
 * and a background thread that assembles up to {@code prefetch} batches ahead so training never waits.
 *
 * <p>Every random choice is drawn from a generator seeded by (seed, epoch) or (seed, epoch, example), never
 * from a shared one, so the batches are the same whether or not they were prefetched. Batches are plain
 * host arrays; the consumer makes tensors on its own thread (scopes are thread-local).
 */
public final class DataLoader {
    /** Per-example transform applied after augmentation, in place; {@code rng} is the example's own generator. */
    @FunctionalInterface
    public interface ExampleTransform {
        /** Transforms one image of {@code channels × height × width} floats (CHW order) in place. */
        void apply(float[] image, int channels, int height, int width, SplittableRandom rng);
    }

    /** One mini-batch: {@code size} images [size, channels, height, width] and their labels. */
    public record Batch(int epoch, int index, float[] images, int[] labels, int size, int channels, int height,
            int width) {
        /** The images as a FLOAT32 tensor and the labels as an INT32 tensor, owned by the current scope. */
        public Tensor[] toTensors() {
            return toTensors(Device.CPU);
        }

        /** As {@link #toTensors()}, on {@code device}: one upload each, straight from the loader's host arrays. */
        public Tensor[] toTensors(Device device) {
            return new Tensor[] {Tensor.of(device, images, size, channels, height, width),
                Tensor.ofInts(device, labels, size)};
        }
    }

    private final Dataset data;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean dropLast;
    private final int cropPadding;
    private final boolean flip;
    private final ExampleTransform transform;
    private final int prefetch;

    private DataLoader(Builder b) {
        this.data = b.data;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.cropPadding = b.cropPadding;
        this.flip = b.flip;
        this.transform = b.transform;
        this.prefetch = b.prefetch;
    }

    /** Starts a loader of {@code data} in batches of {@code batchSize}. */
    public static Builder builder(Dataset data, int batchSize) {
        return new Builder(data, batchSize);
    }

    /** Options; defaults: shuffled, seed 0, last partial batch kept, no augmentation, 2 batches prefetched. */
    public static final class Builder {
        private final Dataset data;
        private final int batchSize;
        private long seed;
        private boolean shuffle = true;
        private boolean dropLast;
        private int cropPadding;
        private boolean flip;
        private ExampleTransform transform;
        private int prefetch = 2;

        private Builder(Dataset data, int batchSize) {
            if (data == null) {
                throw new IllegalArgumentException("data loader: dataset is null");
            }
            if (batchSize <= 0) {
                throw new IllegalArgumentException("data loader: batch size must be positive, got " + batchSize);
            }
            this.data = data;
            this.batchSize = batchSize;
        }

        /** The seed of the shuffling and the augmentation; the same seed gives the same batches. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Whether each epoch visits the examples in a new random order (default true). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Drop the last batch when smaller than the batch size (PyTorch's drop_last). */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /**
         * Random crop back to the original size after padding each side with {@code padding} zeros (zero in
         * the normalised scale, the mean pixel); 4 is usual for 32×32 CIFAR, 2 for 28×28 images.
         */
        public Builder randomCrop(int padding) {
            if (padding < 0) {
                throw new IllegalArgumentException("--crop-padding " + padding + ": must be at least 0");
            }
            if (padding >= Math.min(data.height(), data.width()) && padding > 0) {
                throw new IllegalArgumentException("--crop-padding " + padding + ": not smaller than the "
                        + data.height() + "×" + data.width() + " images of " + data.name() + "; pad by less than a side");
            }
            this.cropPadding = padding;
            return this;
        }

        /** Mirror each image left-to-right with probability 0.5. */
        public Builder horizontalFlip(boolean flip) {
            this.flip = flip;
            return this;
        }

        /** A further transform of each example after crop and flip. */
        public Builder transform(ExampleTransform transform) {
            this.transform = transform;
            return this;
        }

        /** Batches assembled ahead on a background thread; 0 assembles each batch on the caller's thread. */
        public Builder prefetch(int batches) {
            if (batches < 0) {
                throw new IllegalArgumentException("data loader: prefetch must be at least 0, got " + batches);
            }
            this.prefetch = batches;
            return this;
        }

        /** The loader with these options. */
        public DataLoader build() {
            return new DataLoader(this);
        }
    }

    /** The examples this loader serves. */
    public Dataset dataset() {
        return data;
    }

    /** Examples per batch (the last batch may be smaller unless dropLast). */
    public int batchSize() {
        return batchSize;
    }

    /** Batches in one epoch. */
    public int batchesPerEpoch() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The order of the examples in the given epoch: a seeded Fisher–Yates shuffle, or 0..n-1 unshuffled. */
    public int[] order(int epoch) {
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rng = new SplittableRandom(mix(seed, epoch, -1));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /** The batches of one epoch; close it when stopping early so the prefetch thread ends. */
    public Epoch epoch(int epoch) {
        return new Epoch(epoch);
    }

    /** Assembles batch {@code b} of the epoch from the order; pure, so any thread may call it. */
    Batch assemble(int epoch, int[] order, int b) {
        int from = b * batchSize;
        int to = Math.min(order.length, from + batchSize);
        int n = to - from;
        int c = data.channels();
        int h = data.height();
        int w = data.width();
        int per = c * h * w;
        float[] x = new float[n * per];
        int[] y = new int[n];
        float[] scratch = cropPadding > 0 || flip || transform != null ? new float[per] : null;
        for (int i = 0; i < n; i++) {
            int index = order[from + i];
            y[i] = data.labels()[index];
            if (scratch == null) {
                System.arraycopy(data.images(), index * per, x, i * per, per);
                continue;
            }
            SplittableRandom rng = new SplittableRandom(mix(seed, epoch, index));
            System.arraycopy(data.images(), index * per, scratch, 0, per);
            int dy = cropPadding > 0 ? rng.nextInt(2 * cropPadding + 1) - cropPadding : 0;
            int dx = cropPadding > 0 ? rng.nextInt(2 * cropPadding + 1) - cropPadding : 0;
            boolean mirror = flip && rng.nextBoolean();
            if (transform != null) {
                augment(scratch, x, i * per, c, h, w, dy, dx, mirror);
                System.arraycopy(x, i * per, scratch, 0, per);
                transform.apply(scratch, c, h, w, rng);
                System.arraycopy(scratch, 0, x, i * per, per);
            } else {
                augment(scratch, x, i * per, c, h, w, dy, dx, mirror);
            }
        }
        return new Batch(epoch, b, x, y, n, c, h, w);
    }

    /**
     * Writes the image shifted so that output (y, x) reads input (y + dy, x + dx) — zero outside — then
     * mirrored when asked: a crop at offset (p + dy, p + dx) of the image padded by p.
     */
    static void augment(float[] in, float[] out, int at, int c, int h, int w, int dy, int dx, boolean mirror) {
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                int sy = y + dy;
                for (int x = 0; x < w; x++) {
                    int sx = (mirror ? w - 1 - x : x) + dx;
                    out[at + (ch * h + y) * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w
                            ? in[(ch * h + sy) * w + sx] : 0f;
                }
            }
        }
    }

    private static long mix(long seed, long epoch, long example) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + example * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static final Object END = new Object();

    private record Failure(Throwable cause, int batch) {}

    /** The batches of one epoch, in order; with prefetch, filled by a daemon thread through a bounded queue. */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch>, AutoCloseable {
        private final int epoch;
        private final int[] order;
        private final int batches;
        private final BlockingQueue<Object> queue;
        private final Thread producer;
        private int next;
        private volatile boolean closed;

        private Epoch(int epoch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.batches = batchesPerEpoch();
            if (prefetch > 0 && batches > 0) {
                queue = new ArrayBlockingQueue<>(prefetch);
                producer = new Thread(this::produce, "retort-data-" + data.name() + "-epoch-" + epoch);
                producer.setDaemon(true);
                producer.start();
            } else {
                queue = null;
                producer = null;
            }
        }

        private void produce() {
            int b = 0;
            try {
                for (; b < batches && !closed; b++) {
                    queue.put(assemble(epoch, order, b));
                }
                queue.put(END);
            } catch (InterruptedException e) {
                // close() asked us to stop.
            } catch (Throwable t) {
                try {
                    queue.put(new Failure(t, b));
                } catch (InterruptedException ignored) {
                    // close() asked us to stop; nobody is left to tell.
                }
            }
        }

        /** The producer thread, or null without prefetch (for tests). */
        Thread producer() {
            return producer;
        }

        @Override
        public Iterator<Batch> iterator() {
            return this;
        }

        @Override
        public boolean hasNext() {
            return !closed && next < batches;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("data loader: epoch " + epoch + " has " + batches + " batches"
                        + (closed ? " and is closed" : ""));
            }
            if (queue == null) {
                return assemble(epoch, order, next++);
            }
            Object item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("data loader: interrupted waiting for batch " + next + " of epoch "
                        + epoch, e);
            }
            if (item instanceof Failure f) {
                close();
                throw new IllegalStateException("data loader: producing batch " + f.batch() + " of epoch " + epoch
                        + " of " + data.name() + " failed: " + f.cause(), f.cause());
            }
            if (item == END) {
                throw new IllegalStateException("data loader: the producer ended before batch " + next);
            }
            next++;
            if (next == batches) {
                close();
            }
            return (Batch) item;
        }

        /** Stops the producer (if any) and waits briefly for it to end. Safe to call twice. */
        @Override
        public void close() {
            closed = true;
            if (producer != null) {
                producer.interrupt();
                queue.clear();
                try {
                    producer.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
