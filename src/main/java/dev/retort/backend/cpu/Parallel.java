package dev.retort.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs index ranges in parallel on one team of threads shared by all CPU kernels: the calling thread and
 * {@code threads() - 1} workers, the shape of an OpenMP parallel region.
 *
 * <p>A training step is a few dozen parallel loops, many of them only 20–500 µs long, so what a loop costs to
 * start and to finish matters as much as how it is split. A fork-join pool took 18–36 µs a loop on the 2-core VM
 * (a parked worker woken through a futex, the caller parked until the last chunk), more than an element-wise
 * pass over a 128 × 1200 batch needs on one core. Here the workers spin for a while after each loop, watching
 * for the next, and the caller takes chunks itself instead of waiting; chunks are claimed from a shared counter,
 * so a thread slowed by a noisy neighbour simply takes fewer of them.
 *
 * <p>The team is sized by {@code -Dretort.threads} (else all cores) and can be resized ({@link #setThreads}) or
 * stopped ({@link #shutdown}) by an embedder; {@link #setSpinNanos} shortens or turns off the spinning.
 */
public final class Parallel {

    /** The work done for one chunk {@code [lo, hi)} of a range. */
    @FunctionalInterface
    public interface RangeBody {
        /**
         * Processes indices {@code lo} (inclusive) to {@code hi} (exclusive); called concurrently for
         * disjoint chunks, so it must write only to its own chunk's outputs.
         */
        void run(int lo, int hi);
    }

    private static volatile int threads = readThreadCount();

    // More chunks than threads lets a fast thread take over the work of one slowed by a noisy neighbour.
    private static final int CHUNKS_PER_THREAD = 4;

    // How long an idle worker, and a caller waiting for the last chunks, spin before they park. The loops of a
    // step follow each other within microseconds, so workers stay awake through a step and sleep between steps.
    private static final long DEFAULT_SPIN_NANOS = 200_000;
    private static volatile long spinNanos = DEFAULT_SPIN_NANOS;

    private static volatile Team team = threads > 1 ? new Team(threads - 1) : null;

    private Parallel() {}

    /** The number of threads the CPU kernels use (system property {@code retort.threads}, else all cores). */
    public static int threads() {
        return threads;
    }

    /**
     * The most threads a team may have: 8 per core. Past the cores, threads only add switching (the kernels never
     * wait on I/O), and a mistyped count of 100,000 would start that many threads before running out of memory.
     */
    public static int maxThreads() {
        return 8 * Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Why {@code count} is not a thread count the team takes, or null when it is. */
    public static String threadCountProblem(int count) {
        if (count < 1) {
            return "the CPU kernels need at least 1 thread";
        }
        if (count > maxThreads()) {
            return "at most " + maxThreads() + " (8 per core, " + Runtime.getRuntime().availableProcessors()
                    + " cores here): more threads than cores only add switching";
        }
        return null;
    }

    /**
     * Resizes the team to {@code count} threads, the caller included (1: every loop runs on its caller). Waits
     * for a loop in flight to finish, then stops the old workers and starts new ones. Results do not change.
     *
     * @throws IllegalArgumentException when {@code count} is below 1 or above {@link #maxThreads()}
     */
    public static synchronized void setThreads(int count) {
        String problem = threadCountProblem(count);
        if (problem != null) {
            throw new IllegalArgumentException("threads " + count + ": " + problem);
        }
        Team old = team;
        if (old != null) {
            // Own the old team for good: no loop is in flight on it, and no caller that still holds it can start one.
            while (!old.acquire()) {
                Thread.onSpinWait();
            }
            old.stop();
        }
        team = count > 1 ? new Team(count - 1) : null;
        threads = count;
    }

    /** Stops the worker threads; later loops run on their callers alone until {@link #setThreads} is called. */
    public static void shutdown() {
        setThreads(1);
    }

    /**
     * How long idle workers, and a caller waiting for a loop's last chunks, spin before they sleep (default
     * 0.2 ms): long enough to stay awake through a training step's loops; 0 sleeps at once, for an embedder that
     * calls a kernel now and then and would rather not pay for the spinning.
     */
    public static void setSpinNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("spin: a duration must be ≥ 0 ns, got " + nanos);
        }
        spinNanos = nanos;
    }

    /**
     * Runs {@code body} over {@code [start, end)} split into chunks of at least {@code grain} items and returns
     * when every chunk is done. Safe to call from inside another body, where it runs the whole range on the
     * calling thread: the other threads are busy with the enclosing loop. A second thread calling while the team
     * is busy with another's loop likewise runs its range alone. An exception thrown by a body is rethrown here
     * unchanged once all chunks have stopped.
     */
    public static void forRange(int start, int end, int grain, RangeBody body) {
        if (end <= start) {
            return;
        }
        long length = (long) end - start;
        long minimumChunk = Math.max(1, grain);
        Team current = team;
        long chunks = Math.min((length + minimumChunk - 1) / minimumChunk, (long) threads * CHUNKS_PER_THREAD);
        if (chunks <= 1 || current == null || isPoolThread() || !current.acquire()) {
            body.run(start, end);
            return;
        }
        Job job = new Job(body, start, length, (int) chunks);
        try {
            current.run(job);
        } finally {
            current.release();
        }
        Throwable thrown = job.failure.get();
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

    /** Whether the current thread runs inside some body: a worker, or a caller while its loop runs. */
    public static boolean isPoolThread() {
        Thread current = Thread.currentThread();
        Team t = team;
        return current instanceof Worker || (t != null && t.owner.get() == current);
    }

    private static int readThreadCount() {
        String configured = System.getProperty("retort.threads");
        if (configured != null && !configured.isBlank()) {
            try {
                int parsed = Integer.parseInt(configured.trim());
                if (threadCountProblem(parsed) == null) {
                    return parsed;
                }
            } catch (NumberFormatException ignored) {
                // Fall through to the warning below.
            }
            System.getLogger(Parallel.class.getName()).log(System.Logger.Level.WARNING,
                    "retort.threads=''{0}'' is not a whole number from 1 to {2}; using all {1} cores",
                    configured, Runtime.getRuntime().availableProcessors(), maxThreads());
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** One loop: its chunks, the counter they are claimed from, and the count of those finished. */
    private static final class Job {
        final RangeBody body;
        final int start;
        final long length;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        // The caller, once it has parked waiting for the last chunk; whoever finishes that chunk wakes it.
        volatile Thread parkedCaller;

        Job(RangeBody body, int start, long length, int chunks) {
            this.body = body;
            this.start = start;
            this.length = length;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            for (int chunk = next.getAndIncrement(); chunk < chunks; chunk = next.getAndIncrement()) {
                if (failure.get() == null) {
                    try {
                        body.run(bound(chunk), bound(chunk + 1));
                    } catch (Throwable thrown) {
                        // Kept, not rethrown: the caller gets the original object once every chunk has stopped.
                        failure.compareAndSet(null, thrown);
                    }
                }
                if (finished.incrementAndGet() == chunks) {
                    Thread caller = parkedCaller;
                    if (caller != null) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        boolean isDone() {
            return finished.get() == chunks;
        }

        private int bound(int chunk) {
            return (int) (start + length * chunk / chunks);
        }
    }

    /** The workers, the loop they are offered, and the thread that owns the team while its loop runs. */
    private static final class Team {
        final AtomicReference<Thread> owner = new AtomicReference<>();
        final Worker[] workers;
        volatile Job posted;
        volatile boolean stopped;

        Team(int workerCount) {
            workers = new Worker[workerCount];
            for (int i = 0; i < workerCount; i++) {
                workers[i] = new Worker(this, "retort-cpu-" + i);
                workers[i].start();
            }
        }

        boolean acquire() {
            return owner.compareAndSet(null, Thread.currentThread());
        }

        void release() {
            owner.set(null);
        }

        /** Ends the workers (the team must be owned by the caller, so that no loop is in flight). */
        void stop() {
            stopped = true;
            for (Worker worker : workers) {
                LockSupport.unpark(worker);
            }
        }

        /** Offers the job to the workers, works on it too, and returns once every chunk is done. */
        void run(Job job) {
            posted = job;
            for (Worker worker : workers) {
                if (worker.parked) {
                    LockSupport.unpark(worker);
                }
            }
            job.work();
            long deadline = System.nanoTime() + spinNanos;
            while (!job.isDone()) {
                if (System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                } else {
                    // A worker holding the last chunk was descheduled: stop competing with it for a core.
                    job.parkedCaller = Thread.currentThread();
                    if (!job.isDone()) {
                        LockSupport.park(this);
                    }
                }
            }
            // Drop the reference so that a finished loop's body can be collected while the team is idle.
            posted = null;
        }
    }

    /** A team member: runs whatever loop is posted, spinning between loops, parking when none comes for a while. */
    private static final class Worker extends Thread {
        private final Team team;
        volatile boolean parked;

        Worker(Team team, String name) {
            super(name);
            this.team = team;
            setDaemon(true);
        }

        @Override
        public void run() {
            Job last = null;
            while (true) {
                Job job = awaitNext(last);
                if (job == null) {
                    return; // the team was stopped
                }
                job.work();
                last = job;
            }
        }

        /** The next loop to work on, or null once the team is stopped. */
        private Job awaitNext(Job last) {
            long deadline = System.nanoTime() + spinNanos;
            while (true) {
                if (team.stopped) {
                    return null;
                }
                Job job = team.posted;
                if (job != null && job != last) {
                    return job;
                }
                if (System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                    continue;
                }
                // Announce the park before the last look, so that a loop posted in between either is seen here
                // or finds the flag set and unparks this thread.
                parked = true;
                job = team.posted;
                if ((job == null || job == last) && !team.stopped) {
                    LockSupport.park(this);
                }
                parked = false;
                deadline = System.nanoTime() + spinNanos;
            }
        }
    }
}
