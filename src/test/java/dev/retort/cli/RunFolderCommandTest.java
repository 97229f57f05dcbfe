package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.train.RetortFolder;
import dev.retort.train.RunFolder;
import dev.retort.train.RunLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code --out} accepts: a new or empty folder, or a Retort folder of the command's kind; never a folder of the
 * user's own, the current folder unsaid, or a lock file that leads elsewhere; and a refused command leaves nothing.
 */
class RunFolderCommandTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    private Path data() throws IOException {
        return CliFixtures.tinyFashionMnist(dir, 128, 32);
    }

    private static CliFixtures.Run train(Path data, String out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "mlp-tiny", "--batch-size", "64", "--device",
                "cpu", "--data", data.toString(), "--out", out));
        if (!List.of(more).contains("--epochs")) {
            args.addAll(List.of("--epochs", "1"));
        }
        args.addAll(List.of(more));
        return CliFixtures.run(args.toArray(String[]::new));
    }

    private static CliFixtures.Run distill(Path data, Path teacher, String out, String... more) {
        List<String> args = new ArrayList<>(List.of("distill", "--mode", "hinton", "--teacher-model", "mlp-tiny",
                "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--epochs", "1", "--batch-size", "64",
                "--device", "cpu", "--data", data.toString(), "--out", out));
        args.addAll(List.of(more));
        return CliFixtures.run(args.toArray(String[]::new));
    }

    private static CliFixtures.Run sweep(Path data, Path teacher, String out, String... more) {
        List<String> args = new ArrayList<>(List.of("sweep", "--mode", "baseline,hinton", "--teacher-model",
                "mlp-tiny", "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--epochs", "1",
                "--batch-size", "64", "--device", "cpu", "--data", data.toString(), "--out", out));
        args.addAll(List.of(more));
        return CliFixtures.run(args.toArray(String[]::new));
    }

    private static CliFixtures.Run demo(String out) {
        return CliFixtures.run("demo", "--teacher-epochs", "1", "--student-epochs", "1", "--train-size", "64",
                "--device", "cpu", "--out", out);
    }

    private static void assertRefused(CliFixtures.Run run, String... fragments) {
        CliFixtures.assertRefused(run);
        for (String f : fragments) {
            assertTrue(run.err().contains(f), "'" + f + "' in: " + run.err());
        }
    }

    /** Every file under {@code root} with its bytes, so that a test sees any change. */
    private static List<String> snapshot(Path root) throws IOException {
        List<String> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted().toList()) {
                files.add(root.relativize(p) + (Files.isRegularFile(p) ? " " + new String(Files.readAllBytes(p),
                        java.nio.charset.StandardCharsets.ISO_8859_1) : "/"));
            }
        }
        return files;
    }

    /** A folder of the user's own that looks like a run: config.json and metrics.jsonl of theirs. */
    private Path usersFolder() throws IOException {
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("config.json"), "{\"my\": \"settings\"}");
        Files.writeString(mine.resolve("metrics.jsonl"), "{\"my\": 1}\n");
        return mine;
    }

    @Test
    void noCommandWritesIntoAFolderOfTheUsersOwn() throws IOException {
        Path data = data();
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path mine = usersFolder();
        List<String> before = snapshot(mine);

        assertRefused(train(data, mine.toString()), "--out " + mine, "holds files but is not a run folder",
                RetortFolder.MARKER);
        assertRefused(train(data, mine.toString(), "--resume"), "--out " + mine, "not a run folder");
        assertRefused(distill(data, teacher, mine.toString()), "--out " + mine, "not a run folder");
        assertRefused(sweep(data, teacher, mine.toString()), "--out " + mine, "not a sweep folder");
        assertRefused(demo(mine.toString()), "--out " + mine, "not a demo folder");
        assertEquals(before, snapshot(mine), "the user's files are as they were, and nothing was added");
    }

    @Test
    void anEmptyOutIsRefusedAndTheCurrentFolderOnlyWhenItIsEmptyOrRetorts() throws IOException {
        Path data = data();
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path here = Path.of("").toAbsolutePath();
        assertRefused(train(data, ""), "--out ''", "current folder");
        assertRefused(distill(data, teacher, ""), "--out ''");
        assertRefused(sweep(data, teacher, ""), "--out ''");
        assertRefused(demo(""), "--out ''");
        // The tests run in the repository's root: a folder of files that is not a run folder.
        assertRefused(train(data, "."), "--out .", "not a run folder");
        assertRefused(sweep(data, teacher, "."), "--out .", "not a sweep folder");
        for (String name : List.of(RetortFolder.MARKER, RunLock.FILE, "checkpoints")) {
            assertFalse(Files.exists(here.resolve(name)), name + " written into the current folder");
        }
    }

    @Test
    void aRetortFolderOfAnotherKindIsRefused() throws IOException {
        Path data = data();
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path sweepFolder = dir.resolve("a-sweep");
        RetortFolder.claim(sweepFolder, RetortFolder.Kind.SWEEP, "--out");
        Path demoFolder = dir.resolve("a-demo");
        RetortFolder.claim(demoFolder, RetortFolder.Kind.DEMO, "--out");
        Path run = dir.resolve("a-run");
        assertEquals(0, train(data, run.toString()).exitCode());

        assertRefused(train(data, sweepFolder.toString()), "is a sweep folder, not a run folder");
        assertRefused(distill(data, teacher, demoFolder.toString()), "is a demo folder, not a run folder");
        assertRefused(sweep(data, teacher, run.toString()), "is a run folder, not a sweep folder");
        assertRefused(demo(run.toString()), "is a run folder, not a demo folder");
        assertRefused(sweep(data, teacher, demoFolder.toString()), "is a demo folder, not a sweep folder");
        assertEquals(List.of(RetortFolder.MARKER), names(sweepFolder), "nothing written into the sweep folder");
        assertEquals(List.of(RetortFolder.MARKER), names(demoFolder), "nothing written into the demo folder");
    }

    @Test
    void aDemoWhoseStudentsCannotStartIsRefusedBeforeItsTeacherTrains() throws IOException {
        Path out = dir.resolve("demo");
        CliFixtures.Run r = CliFixtures.run("demo", "--teacher-epochs", "1", "--student-epochs", "1", "--train-size",
                "64", "--labelled", "1000", "--device", "cpu", "--out", out.toString());
        assertRefused(r, "--labelled 1000");
        assertFalse(r.out().contains("teacher: "), "no run started: " + r.out());
        assertFalse(Files.exists(out), "no folder made");
    }

    @Test
    void nothingIsWrittenInsideAnotherRunsFolder() throws IOException {
        Path data = data();
        Path run = dir.resolve("a-run");
        assertEquals(0, train(data, run.toString()).exitCode());
        List<String> before = snapshot(run);
        // A run removes what looks half-written in its checkpoints/ when it starts: a folder there would go.
        Path inside = run.resolve("checkpoints").resolve("epoch-0009");
        assertRefused(train(data, inside.toString()), "--out " + inside + " is inside the run folder "
                + run.toRealPath());
        assertRefused(train(data, run.resolve("sub").toString()), "is inside the run folder");
        assertEquals(before, snapshot(run), "the run folder is as it was");
    }

    @Test
    void aNewOrEmptyFolderBecomesARunFolderAndASweepsRunsAreRunFoldersInIt() throws IOException {
        Path data = data();
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path empty = Files.createDirectories(dir.resolve("empty"));
        CliFixtures.Run run = train(data, empty.toString());
        assertEquals(0, run.exitCode(), run.all());
        assertEquals(Optional.of(RetortFolder.Kind.RUN), RetortFolder.kindOf(empty));
        assertTrue(Files.readString(empty.resolve(RetortFolder.MARKER)).contains("\"kind\":\"run\""));

        Path study = dir.resolve("study");
        CliFixtures.Run swept = sweep(data, teacher, study.toString());
        assertEquals(0, swept.exitCode(), swept.all());
        assertEquals(Optional.of(RetortFolder.Kind.SWEEP), RetortFolder.kindOf(study));
        for (String cell : List.of("mode-baseline", "mode-hinton")) {
            assertEquals(Optional.of(RetortFolder.Kind.RUN), RetortFolder.kindOf(study.resolve(cell)), cell);
        }
        CliFixtures.Run again = sweep(data, teacher, study.toString());
        assertEquals(0, again.exitCode(), again.all());
        assertEquals(2, again.out().lines().filter(l -> l.contains("finished earlier")).count(), again.out());
    }

    @Test
    void aRunFolderWrittenBeforeTheMarkerResumesAndGetsItsMarker() throws IOException {
        Path data = data();
        Path run = dir.resolve("old");
        assertEquals(0, train(data, run.toString()).exitCode());
        Files.delete(run.resolve(RetortFolder.MARKER)); // as an earlier version left it
        CliFixtures.Run resumed = train(data, run.toString(), "--resume", "--epochs", "2");
        assertEquals(0, resumed.exitCode(), resumed.all());
        assertEquals(Optional.of(RetortFolder.Kind.RUN), RetortFolder.kindOf(run));
        assertTrue(Files.isRegularFile(run.resolve(RetortFolder.MARKER)));
        assertEquals(2, RunFolder.at(run).readMetrics().size());
    }

    @Test
    void aLockFileThatIsALinkIsRefusedAndWhatItLeadsToIsUnchanged() throws IOException {
        Path data = data();
        Path run = dir.resolve("run");
        assertEquals(0, train(data, run.toString()).exitCode());
        Path outside = Files.writeString(dir.resolve("precious.txt"), "the user's own words\n");
        Files.delete(run.resolve(RunLock.FILE));
        Files.createSymbolicLink(run.resolve(RunLock.FILE), outside);

        assertRefused(train(data, run.toString(), "--resume", "--epochs", "2"), run.resolve(RunLock.FILE).toString(),
                "symbolic link");
        assertEquals("the user's own words\n", Files.readString(outside));
        assertEquals(1, RunFolder.at(run).readMetrics().size(), "the run did not go on");

        Path fresh = Files.createDirectories(dir.resolve("fresh"));
        Files.createSymbolicLink(fresh.resolve(RunLock.FILE), outside);
        assertRefused(train(data, fresh.toString()), "--out " + fresh, "not a run folder");
        assertEquals("the user's own words\n", Files.readString(outside));
    }

    @Test
    void refusedRunsLeaveNoFolderBehind() throws IOException {
        Path data = data();
        // Weights of another network than --teacher-model: refused before the folder is made.
        Path wrongTeacher = CliFixtures.saveWeights(dir, "mlp-student", 3);
        Path kd = dir.resolve("kd");
        assertRefused(distill(data, wrongTeacher, kd.toString()), "holds the weights of");
        assertFalse(Files.exists(kd), "no folder for a refused distillation");
        // --resume of a folder that does not exist.
        Path none = dir.resolve("none");
        assertRefused(train(data, none.toString(), "--resume"), "--resume", "no such folder");
        assertFalse(Files.exists(none));
        // Refused after the folder was claimed (layers that are not the networks'): what was made goes, parents too.
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path nested = dir.resolve("new").resolve("deeper").resolve("kd");
        assertRefused(badHybrid(data, teacher, nested), "99");
        assertFalse(Files.exists(dir.resolve("new")), "the folders the refused run made are gone");
        // A sweep whose first run is refused after its folders were claimed.
        Path study = dir.resolve("study");
        CliFixtures.Run swept = CliFixtures.run("sweep", "--mode", "hybrid", "--pairs", "99=99", "--teacher-model",
                "mlp-tiny", "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--epochs", "1",
                "--device", "cpu", "--data", data.toString(), "--out", study.toString());
        assertRefused(swept, "99");
        assertFalse(Files.exists(study), "no sweep folder holding only its lock");
        // An empty folder of the user's stays, empty.
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertRefused(badHybrid(data, teacher, empty), "99");
        assertEquals(List.of(), names(empty));
    }

    /** A hybrid distillation pairing layers the networks do not have: refused once the run builds its objective. */
    private static CliFixtures.Run badHybrid(Path data, Path teacher, Path out) {
        return CliFixtures.run("distill", "--mode", "hybrid", "--pairs", "99=99", "--teacher-model", "mlp-tiny",
                "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--epochs", "1", "--device", "cpu",
                "--data", data.toString(), "--out", out.toString());
    }

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
