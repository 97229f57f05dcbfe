package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private static final long SECOND = 1_000_000_000L;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final AtomicLong now = new AtomicLong(5 * SECOND);

    private Progress plain(String task, long total) {
        return new Progress(Progress.Mode.PLAIN, task, total, "batch", out, now::get);
    }

    private List<String> lines() {
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private void at(long seconds) {
        now.set(5 * SECOND + seconds * SECOND);
    }

    @Test
    void plainPrintsRateEtaAndMessageAtMostEveryTenSecondsThenAFinalLine() {
        try (Progress progress = plain("epoch 3/10 train", 10)) {
            at(1);
            progress.step(1);
            progress.message("loss 0.5000");
            assertEquals(List.of(), lines(), "nothing before 10 seconds");
            at(10);
            progress.step(1);
            assertEquals(List.of("  epoch 3/10 train: 2/10 batch (20%), 0.2 batch/s, ETA 0:00:40, loss 0.5000"),
                    lines());
            at(19);
            progress.step(2);
            assertEquals(1, lines().size(), "throttled until 10 seconds after the last line");
            at(20);
            progress.step(1);
            progress.message("loss 0.2500");
            assertEquals("  epoch 3/10 train: 5/10 batch (50%), 0.3 batch/s, ETA 0:00:20, loss 0.5000",
                    lines().get(1));
            at(25);
            progress.step(5);
        }
        List<String> lines = lines();
        assertEquals(3, lines.size());
        assertEquals("  epoch 3/10 train: 10/10 batch (100%), 0.4 batch/s, took 0:00:25, loss 0.2500", lines.get(2));
        assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("\r"), "no carriage returns in plain mode");
    }

    @Test
    void closePrintsTheFinalLineOnlyOnce() {
        Progress progress = plain("eval", 4);
        progress.step(4);
        progress.close();
        progress.close();
        assertEquals(List.of("  eval: 4/4 batch (100%), ? batch/s, took 0:00:00"), lines());
        assertThrows(IllegalStateException.class, () -> progress.step(1));
    }

    @Test
    void offPrintsNothing() {
        try (Progress progress = new Progress(Progress.Mode.OFF, "eval", 10, "img", out, now::get)) {
            at(60);
            progress.step(10);
            progress.message("acc 0.91");
        }
        assertEquals(0, bytes.size());
    }

    @Test
    void thePropertyOverridesTheTerminalDetection() {
        withStandardOutputCaptured(() -> {
            System.setProperty("retort.progress", "plain");
            assertEquals(Progress.Mode.PLAIN, Progress.mode());
            System.setProperty("retort.progress", "bar");
            assertEquals(Progress.Mode.BAR, Progress.mode());
            System.setProperty("retort.progress", "off");
            assertEquals(Progress.Mode.OFF, Progress.mode());
            Progress.showOn(out);
            try (Progress progress = Progress.start("cache teacher outputs", 3, "img")) {
                progress.step(3);
            }
        });
        assertEquals(0, bytes.size(), "off: start() prints nothing");
    }

    @Test
    void theLibraryIsQuietUntilTheApplicationNamesAStream() {
        withStandardOutputCaptured(() -> {
            System.setProperty("retort.progress", "plain");
            try (Progress progress = Progress.start("epoch 1/1", 3, "batch")) {
                progress.step(3);
            }
            assertEquals(0, bytes.size(), "no stream named: nothing on standard output");
            Progress.showOn(out);
            try (Progress progress = Progress.start("epoch 1/1", 3, "batch")) {
                progress.step(3);
            }
            assertTrue(bytes.toString().contains("epoch 1/1: 3/3 batch (100%)"), bytes.toString());
        });
    }

    /** Runs {@code body} with standard output going to {@code out}; puts back the stream, the property and showOn. */
    private void withStandardOutputCaptured(Runnable body) {
        String before = System.getProperty("retort.progress");
        PrintStream stdout = System.out;
        try {
            System.setOut(out);
            body.run();
        } finally {
            Progress.showOn(null);
            System.setOut(stdout);
            if (before == null) {
                System.clearProperty("retort.progress");
            } else {
                System.setProperty("retort.progress", before);
            }
        }
    }

    @Test
    void aTotalOfZeroMeansUnknownAndDividesByNothing() {
        try (Progress progress = plain("stream", 0)) {
            at(10);
            progress.step(30);
        }
        assertEquals(List.of("  stream: 30 batch, 3.0 batch/s, ETA ?", "  stream: 30 batch, 3.0 batch/s, took 0:00:10"),
                lines());
        try (Progress empty = plain("empty", 0)) {
            empty.step(0);
        }
        assertEquals("  empty: 0 batch, ? batch/s, took 0:00:00", lines().get(2));
    }

    @Test
    void negativeStepsAndTotalsAreRejectedByName() {
        try (Progress progress = plain("epoch 1/1 train", 10)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> progress.step(-1));
            assertTrue(e.getMessage().contains("epoch 1/1 train") && e.getMessage().contains("-1"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plain("eval", -5));
        assertTrue(e.getMessage().contains("eval") && e.getMessage().contains("-5"), e.getMessage());
    }

    @Test
    void clockShowsHoursMinutesAndSeconds() {
        assertEquals("0:00:00", Progress.clock(0.2));
        assertEquals("0:01:05", Progress.clock(65));
        assertEquals("27:46:40", Progress.clock(100_000));
    }
}
