package dev.retort.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** Runs index ranges in parallel on the one fork-join pool shared by all CPU kernels. */
public final class Parallel {

    /** The work done for one chunk {@code [lo, hi)} of a range. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int lo, int hi);
    }

    private static final int THREADS = readThreadCount();

    // More chunks than threads lets a fast thread take over the work of one slowed by a noisy neighbour.
    private static final int CHUNKS_PER_THREAD = 4;

    private static final ForkJoinPool POOL = THREADS > 1 ? createPool(THREADS) : null;

    private Parallel() {}

    /** The number of threads the CPU kernels use (system property {@code retort.threads}, else all cores). */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over {@code [start, end)} split into chunks of at least {@code grain} items and returns
     * when every chunk is done. Safe to call from inside another body: the calling pool thread works on the
     * chunks itself and steals the rest rather than blocking. An exception thrown by a body is rethrown here
     * unchanged once all chunks have stopped.
     */
    public static void forRange(int start, int end, int grain, RangeBody body) {
        if (end <= start) {
            return;
        }
        long length = (long) end - start;
        long minimumChunk = Math.max(1, grain);
        long chunks = Math.min((length + minimumChunk - 1) / minimumChunk, (long) THREADS * CHUNKS_PER_THREAD);
        if (chunks <= 1 || POOL == null) {
            body.run(start, end);
            return;
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        RangeTask root = new RangeTask(body, start, end, (int) chunks, failure);
        if (isPoolThread()) {
            root.invoke();
        } else {
            POOL.invoke(root);
        }
        Throwable thrown = failure.get();
        if (thrown instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (thrown instanceof Error error) {
            throw error;
        }
        if (thrown != null) {
            // Only reachable through sneaky throws; keep the original as the cause.
            throw new RuntimeException(thrown);
        }
    }

    /** Whether the current thread belongs to the kernels' pool, that is, runs inside some body. */
    public static boolean isPoolThread() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread worker && worker.getPool() == POOL
                && POOL != null;
    }

    private static int readThreadCount() {
        String configured = System.getProperty("retort.threads");
        if (configured != null && !configured.isBlank()) {
            try {
                int parsed = Integer.parseInt(configured.trim());
                if (parsed >= 1) {
                    return parsed;
                }
            } catch (NumberFormatException ignored) {
                // Fall through to the warning below.
            }
            System.getLogger(Parallel.class.getName()).log(System.Logger.Level.WARNING,
                    "retort.threads=''{0}'' is not a positive integer; using all {1} cores",
                    configured, Runtime.getRuntime().availableProcessors());
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    private static ForkJoinPool createPool(int threads) {
        AtomicInteger counter = new AtomicInteger();
        ForkJoinPool.ForkJoinWorkerThreadFactory factory = pool -> {
            ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            thread.setName("retort-cpu-" + counter.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        };
        return new ForkJoinPool(threads, factory, null, false);
    }

    /** Halves its share of chunks until one is left, so that idle threads can steal the other halves. */
    private static final class RangeTask extends RecursiveAction {
        private final RangeBody body;
        private final int lo;
        private final int hi;
        private final int chunks;
        private final AtomicReference<Throwable> failure;

        RangeTask(RangeBody body, int lo, int hi, int chunks, AtomicReference<Throwable> failure) {
            this.body = body;
            this.lo = lo;
            this.hi = hi;
            this.chunks = chunks;
            this.failure = failure;
        }

        @Override
        protected void compute() {
            if (chunks == 1) {
                if (failure.get() != null) {
                    return; // another chunk already failed; its exception is what the caller will see
                }
                try {
                    body.run(lo, hi);
                } catch (Throwable thrown) {
                    // Caught here, not by the pool, so the caller gets the original object rather than a copy.
                    failure.compareAndSet(null, thrown);
                }
                return;
            }
            int leftChunks = chunks / 2;
            int middle = (int) (lo + ((long) hi - lo) * leftChunks / chunks);
            invokeAll(new RangeTask(body, lo, middle, leftChunks, failure),
                    new RangeTask(body, middle, hi, chunks - leftChunks, failure));
        }
    }
}
