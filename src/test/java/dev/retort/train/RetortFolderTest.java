package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Claiming a folder for a run, a sweep or a demo, and withdrawing the claim of a command that failed at once. */
class RetortFolderTest {
    @TempDir
    Path dir;

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aClaimMarksANewFolderAndIsWithdrawnWithTheFoldersItMade() throws IOException {
        Path run = dir.resolve("a").resolve("b").resolve("run");
        RetortFolder.Claim claim = RetortFolder.claim(run, RetortFolder.Kind.RUN, "--out");
        assertEquals(Optional.of(RetortFolder.Kind.RUN), RetortFolder.kindOf(run));
        Files.createDirectories(run.resolve("checkpoints"));
        RunLock.acquire(run, "train mlp-tiny").close();
        claim.withdraw();
        assertEquals(List.of(), names(dir), "the marker, lock, checkpoints/ and the folders a/b/run are gone");
    }

    @Test
    void aClaimIsNotWithdrawnOnceTheFolderHoldsMore() throws IOException {
        Path run = dir.resolve("run");
        RetortFolder.Claim claim = RetortFolder.claim(run, RetortFolder.Kind.RUN, "--out");
        Files.writeString(run.resolve(RunFolder.CONFIG), "{}");
        claim.withdraw();
        assertEquals(List.of(RetortFolder.MARKER, RunFolder.CONFIG), names(run));
    }

    @Test
    void anEmptyFolderOfTheUsersStaysWhenTheClaimIsWithdrawn() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        RetortFolder.claim(empty, RetortFolder.Kind.SWEEP, "--out").withdraw();
        assertTrue(Files.isDirectory(empty));
        assertEquals(List.of(), names(empty));
    }

    @Test
    void aClaimOnAFolderAlreadyClaimedWithdrawsNothing() throws IOException {
        Path demo = dir.resolve("demo");
        RetortFolder.claim(demo, RetortFolder.Kind.DEMO, "--out");
        RetortFolder.claim(demo, RetortFolder.Kind.DEMO, "--out").withdraw();
        assertEquals(Optional.of(RetortFolder.Kind.DEMO), RetortFolder.kindOf(demo), "an earlier claim is kept");
    }

    @Test
    void aFolderHoldingOnlyALeftoverLockCountsAsEmpty() throws IOException {
        Path left = Files.createDirectories(dir.resolve("left").resolve("checkpoints")).getParent();
        Files.writeString(left.resolve(RunLock.FILE), "pid 1, retort train, started 2020-01-01T00:00:00Z\n");
        RetortFolder.claim(left, RetortFolder.Kind.RUN, "--out");
        assertEquals(Optional.of(RetortFolder.Kind.RUN), RetortFolder.kindOf(left));
    }

    @Test
    void whatIsNotTheCommandsToWriteIsRefusedAndLeftAsItWas() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("notes.txt"), "mine");
        Path sweep = dir.resolve("sweep");
        RetortFolder.claim(sweep, RetortFolder.Kind.SWEEP, "--out");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RetortFolder.claim(Path.of(""), RetortFolder.Kind.RUN, "--out")).getMessage()
                .contains("--out '': an empty path would be the current folder"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RetortFolder.claim(file, RetortFolder.Kind.RUN, "--out")).getMessage().contains("is a file"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RetortFolder.claim(file.resolve("run"), RetortFolder.Kind.RUN, "--out")).getMessage()
                .contains(file + " is a file, not a folder"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RetortFolder.claim(mine, RetortFolder.Kind.RUN, "--out")).getMessage()
                .contains("holds files but is not a run folder"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RetortFolder.claim(sweep, RetortFolder.Kind.RUN, "--out")).getMessage()
                .contains("is a sweep folder, not a run folder"));
        assertEquals(List.of("notes.txt"), names(mine));
        assertEquals(List.of(RetortFolder.MARKER), names(sweep));
        assertFalse(Files.exists(Path.of(RetortFolder.MARKER)), "nothing written into the current folder");
    }
}
