package dev.retort.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Pins {@link Parallel#forRange}: every index once, nesting without deadlock, parked workers woken, concurrent
 * callers, exceptions reaching the caller.
 */
class ParallelTest {

    @Test
    void everyIndexIsVisitedExactlyOnce() {
        for (int[] range : new int[][] {{0, 0}, {5, 6}, {0, 1000}, {-7, 993}, {3, 10}}) {
            int start = range[0];
            int end = range[1];
            for (int grain : new int[] {1, 3, 64, 5000}) {
                AtomicIntegerArray visits = new AtomicIntegerArray(Math.max(0, end - start));
                Parallel.forRange(start, end, grain, (lo, hi) -> {
                    assertTrue(start <= lo && lo < hi && hi <= end, lo + ".." + hi);
                    for (int i = lo; i < hi; i++) {
                        visits.incrementAndGet(i - start);
                    }
                });
                for (int i = 0; i < visits.length(); i++) {
                    assertEquals(1, visits.get(i), "index " + (start + i) + " grain " + grain);
                }
            }
        }
    }

    @Test
    void chunksRespectTheGrainExceptWhenTheRangeIsSmaller() {
        Parallel.forRange(0, 100, 30, (lo, hi) -> assertTrue(hi - lo >= 25, "chunk " + lo + ".." + hi));
    }

    @Test
    void nestedCallsCompleteAndCoverEverything() {
        AtomicLong sum = new AtomicLong();
        Parallel.forRange(0, 16, 1, (lo, hi) -> {
            for (int outer = lo; outer < hi; outer++) {
                int base = outer * 1000;
                Parallel.forRange(0, 1000, 10, (innerLo, innerHi) -> {
                    Parallel.forRange(innerLo, innerHi, 2, (deepLo, deepHi) -> {
                        long local = 0;
                        for (int i = deepLo; i < deepHi; i++) {
                            local += base + i;
                        }
                        sum.addAndGet(local);
                    });
                });
            }
        });
        long expected = 0;
        for (int i = 0; i < 16_000; i++) {
            expected += i;
        }
        assertEquals(expected, sum.get());
    }

    @Test
    void bodiesRunOnNamedPoolThreadsOrTheCaller() {
        Set<String> names = ConcurrentHashMap.newKeySet();
        Parallel.forRange(0, 64, 1, (lo, hi) -> {
            names.add(Thread.currentThread().getName());
            busyWork();
        });
        String caller = Thread.currentThread().getName();
        for (String name : names) {
            assertTrue(name.startsWith("retort-cpu-") || name.equals(caller), name);
        }
    }

    @Test
    void workersParkedWhileIdleAreWokenForTheNextLoop() throws InterruptedException {
        assumeTrue(Parallel.threads() > 1, "one thread: there are no workers");
        for (int round = 0; round < 3; round++) {
            // Long enough for the workers to stop spinning and park.
            Thread.sleep(50);
            // Every chunk waits until two threads are inside the loop, which needs a worker to wake and join.
            CountDownLatch inside = new CountDownLatch(2);
            Set<String> names = ConcurrentHashMap.newKeySet();
            Parallel.forRange(0, 2, 1, (lo, hi) -> {
                names.add(Thread.currentThread().getName());
                inside.countDown();
                try {
                    assertTrue(inside.await(10, TimeUnit.SECONDS), "no worker joined the loop");
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            assertEquals(2, names.size(), names.toString());
        }
    }

    @Test
    void concurrentCallersFromSeveralThreadsEachCoverTheirRange() throws InterruptedException {
        int callers = 4;
        AtomicLong[] sums = new AtomicLong[callers];
        Thread[] threads = new Thread[callers];
        AtomicLong failures = new AtomicLong();
        for (int t = 0; t < callers; t++) {
            AtomicLong sum = sums[t] = new AtomicLong();
            threads[t] = new Thread(() -> {
                try {
                    for (int repeat = 0; repeat < 200; repeat++) {
                        Parallel.forRange(0, 10_000, 16, (lo, hi) -> {
                            long local = 0;
                            for (int i = lo; i < hi; i++) {
                                local += i;
                            }
                            sum.addAndGet(local);
                        });
                    }
                } catch (Throwable thrown) {
                    failures.incrementAndGet();
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(0, failures.get());
        for (AtomicLong sum : sums) {
            assertEquals(200L * (10_000L * 9_999 / 2), sum.get());
        }
    }

    @Test
    void runtimeExceptionsReachTheCallerUnwrapped() {
        IllegalStateException thrown = new IllegalStateException("chunk failed");
        IllegalStateException caught = assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(0, 100, 1, (lo, hi) -> {
                    if (lo <= 57 && 57 < hi) {
                        throw thrown;
                    }
                }));
        assertSame(thrown, caught);
    }

    @Test
    void errorsAndNestedExceptionsReachTheCaller() {
        AssertionError error = new AssertionError("deep failure");
        AssertionError caught = assertThrows(AssertionError.class,
                () -> Parallel.forRange(0, 8, 1, (lo, hi) -> Parallel.forRange(0, 100, 1, (innerLo, innerHi) -> {
                    if (lo == 0 && innerLo == 0) {
                        throw error;
                    }
                })));
        assertSame(error, caught);
        // The pool still works after a failure.
        AtomicLong count = new AtomicLong();
        Parallel.forRange(0, 100, 1, (lo, hi) -> count.addAndGet(hi - lo));
        assertEquals(100, count.get());
    }

    @Test
    void theTeamResizesShutsDownAndStopsSpinningOnRequest() throws InterruptedException {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(3);
            assertEquals(3, Parallel.threads());
            AtomicIntegerArray visits = new AtomicIntegerArray(10_000);
            Set<String> names = ConcurrentHashMap.newKeySet();
            Parallel.forRange(0, visits.length(), 1, (lo, hi) -> {
                names.add(Thread.currentThread().getName());
                for (int i = lo; i < hi; i++) {
                    visits.incrementAndGet(i);
                }
                busyWork();
            });
            for (int i = 0; i < visits.length(); i++) {
                assertEquals(1, visits.get(i), "index " + i);
            }
            assertTrue(names.stream().allMatch(n -> n.startsWith("retort-cpu-") || n.equals(Thread.currentThread().getName())),
                    names.toString());

            Parallel.setSpinNanos(0);
            Parallel.shutdown();
            assertEquals(1, Parallel.threads());
            Set<String> alone = ConcurrentHashMap.newKeySet();
            Parallel.forRange(0, 1000, 1, (lo, hi) -> alone.add(Thread.currentThread().getName()));
            assertEquals(Set.of(Thread.currentThread().getName()), alone, "after shutdown loops run on their caller");
            // The stopped workers end.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (liveWorkers() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, liveWorkers(), "workers still alive after shutdown");
            assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
            assertThrows(IllegalArgumentException.class, () -> Parallel.setSpinNanos(-1));
        } finally {
            Parallel.setSpinNanos(200_000);
            Parallel.setThreads(before);
        }
    }

    private static long liveWorkers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("retort-cpu-") && t.isAlive()).count();
    }

    @Test
    void threadCountIsPositive() {
        assertTrue(Parallel.threads() >= 1);
    }

    private static void busyWork() {
        double x = 0;
        for (int i = 0; i < 10_000; i++) {
            x += Math.sqrt(i);
        }
        if (x < 0) {
            throw new AssertionError();
        }
    }
}
