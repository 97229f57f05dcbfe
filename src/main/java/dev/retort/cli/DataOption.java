package dev.retort.cli;

import dev.retort.data.Dataset;
import dev.retort.data.FashionMnist;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --data DIR} option: where Fashion-MNIST is, found once in docs/formats.md's lookup order. */
public final class DataOption {
    @Option(names = "--data", paramLabel = "DIR",
            description = "Folder with the Fashion-MNIST IDX files (raw or .gz). Default: $RETORT_DATA, "
                    + "~/.cache/retort/fashion-mnist, /usr/share/datasets/fashion-mnist, else a download "
                    + "into the cache (SHA-256 checked).")
    Path data;

    private Path located;

    /** The folder the user named, or null for the lookup order. */
    public Path explicit() {
        return data;
    }

    /** The folder holding the files; an explicit --data folder must hold them, no other copy replaces it. */
    public Path locate() throws IOException {
        if (located == null) {
            located = FashionMnist.locate(data);
        }
        return located;
    }

    public Dataset train() throws IOException {
        return FashionMnist.train(locate());
    }

    public Dataset test() throws IOException {
        return FashionMnist.test(locate());
    }
}
