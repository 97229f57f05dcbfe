package dev.retort.cli;

import dev.retort.data.Dataset;
import dev.retort.train.DataFingerprint;
import dev.retort.train.DatasetFolder;
import dev.retort.train.Runs;
import dev.retort.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/** Wiring shared by the training commands. */
final class Commands {
    private Commands() {}

    /** The --data/--dataset dataset, cut to the config's train size, with one line saying where it came from. */
    static Runs.Data loadData(DataOption option, TrainingConfig config, PrintWriter log) throws IOException {
        Dataset train = option.train().head(config.trainSize());
        Dataset test = option.test();
        DatasetFolder dataset = option.dataset();
        String source = dataset.describe();
        log.println("data: " + source + " (" + train.size() + " train, " + test.size() + " test)");
        Map<String, Object> origin = new LinkedHashMap<>();
        origin.put("dataset", dataset.kind());
        origin.put("folder", dataset.folder().toAbsolutePath().toString());
        origin.put(DataFingerprint.FIELD, dataset.fingerprint());
        return new Runs.Data(train, test, source, origin, dataset.normalization());
    }
}
