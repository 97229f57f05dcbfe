package dev.retort.cli;

import dev.retort.data.Dataset;
import dev.retort.train.DatasetFolder;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --data DIR} and {@code --dataset KIND} options: which dataset, found once (docs/formats.md: the lookup
 * order of the published datasets, and the layout of a folder of one's own).
 */
public final class DataOption {
    @Option(names = "--data", paramLabel = "DIR",
            description = "Folder with the data: Fashion-MNIST's IDX files (raw or .gz), CIFAR-10's binary batches, "
                    + "train/ and test/ folders of class folders of PNG or JPEG images, or x_train.npy, y_train.npy, "
                    + "x_test.npy, y_test.npy. Default: Fashion-MNIST from $RETORT_DATA, ~/.cache/retort/fashion-mnist, "
                    + "/usr/share/datasets/fashion-mnist, else a download into the cache (SHA-256 checked).")
    Path data;

    @Option(names = "--dataset", paramLabel = "fashion-mnist|mnist|cifar-10|images|npy",
            description = "What --data holds (default: told by its files; without --data, fashion-mnist). The "
                    + "published ones are also looked for without --data.")
    String dataset;

    private DatasetFolder found;

    /** The folder the user named, or null for the lookup order. */
    public Path explicit() {
        return data;
    }

    /** The dataset, found on first use; an explicit --data folder must hold it, no other copy replaces it. */
    public DatasetFolder dataset() throws IOException {
        if (found == null) {
            found = DatasetFolder.open(dataset, data);
        }
        return found;
    }

    /** The folder holding the files. */
    public Path locate() throws IOException {
        return dataset().folder();
    }

    /** The training split. */
    public Dataset train() throws IOException {
        return dataset().train();
    }

    /** The test split. */
    public Dataset test() throws IOException {
        return dataset().test();
    }
}
