package dev.retort.backend;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A reference-counted block of device memory; released explicitly when its last owner closes,
 * with a {@link Cleaner} as a backstop that counts every block the garbage collector had to reclaim.
 */
public abstract class Storage {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong LEAKED = new AtomicLong();

    private final DType dtype;
    private final int size;
    private final Release release;
    private final Cleaner.Cleanable cleanable;
    private int references = 1;

    /**
     * @param freeMemory frees the device memory; must not reference this Storage, or it would never
     *                   become unreachable
     */
    protected Storage(DType dtype, int size, Runnable freeMemory) {
        this.dtype = dtype;
        this.size = size;
        this.release = new Release(freeMemory);
        this.cleanable = CLEANER.register(this, release);
        LIVE.incrementAndGet();
    }

    /** Element type, fixed at allocation. */
    public DType dtype() {
        return dtype;
    }

    /** Number of elements. */
    public int size() {
        return size;
    }

    /** Which device's memory this block is; decides which backend may compute on it. */
    public abstract Device device();

    /** Whether the last owner has closed, so the memory is freed and must not be read. */
    public synchronized boolean isReleased() {
        return references == 0;
    }

    /** Adds an owner (a view sharing this memory). */
    public synchronized void retain() {
        if (references == 0) {
            throw new IllegalStateException("storage of " + size + " " + dtype + " elements was already released");
        }
        references++;
    }

    /** Drops an owner; the memory is freed when the last one lets go. */
    public void release() {
        synchronized (this) {
            if (references == 0) {
                return;
            }
            if (--references > 0) {
                return;
            }
        }
        release.explicit = true;
        cleanable.clean();
    }

    /** Blocks allocated and not yet released. Deterministic: tests compare it before and after a workload. */
    public static long liveCount() {
        return LIVE.get();
    }

    /** Blocks the garbage collector reclaimed without an explicit release: each one is a leak. */
    public static long leakedCount() {
        return LEAKED.get();
    }

    private static final class Release implements Runnable {
        private final Runnable freeMemory;
        private volatile boolean explicit;

        Release(Runnable freeMemory) {
            this.freeMemory = freeMemory;
        }

        @Override
        public void run() {
            if (!explicit) {
                LEAKED.incrementAndGet();
            }
            LIVE.decrementAndGet();
            freeMemory.run();
        }
    }
}
