package dev.retort.nn;

import dev.retort.nn.Layers.Dropout;
import dev.retort.nn.Layers.Flatten;
import dev.retort.nn.Layers.MaxPool2d;
import dev.retort.nn.Layers.ReLU;
import java.util.List;
import java.util.SplittableRandom;

/** The reference networks of docs/networks.md, by name, built from a seed. */
public final class Models {
    /** Every name {@link #create} accepts. */
    public static final List<String> NAMES = List.of("cnn-teacher", "cnn-student", "mlp-teacher", "mlp-student",
            "mlp-tiny", "resnet20", "resnet8");

    private Models() {}

    /** Input shape [C, H, W] each network expects. */
    public static int[] inputShape(String name) {
        return name.startsWith("resnet") ? new int[] {3, 32, 32} : new int[] {1, 28, 28};
    }

    /**
     * A reference network by name, or the network a JSON file describes ({@link NetworkFile}) when
     * {@code nameOrFile} is not a reference name.
     */
    public static Module resolve(String nameOrFile, long seed) throws java.io.IOException {
        if (NAMES.contains(nameOrFile)) {
            return create(nameOrFile, seed);
        }
        java.nio.file.Path file = java.nio.file.Path.of(nameOrFile);
        if (!NetworkFile.isFileName(nameOrFile) || !java.nio.file.Files.isRegularFile(file)) {
            throw new IllegalArgumentException("model '" + nameOrFile + "' is neither a reference network " + NAMES
                    + " nor an existing JSON network file (FILE" + NetworkFile.SUFFIX + ")");
        }
        return NetworkFile.load(file, seed).model();
    }

    /**
     * The reference network {@code name} (docs/networks.md), initialised from {@code seed}; an unknown name lists the
     * known ones.
     */
    public static Module create(String name, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return switch (name) {
            case "cnn-teacher" -> new Sequential(
                    new Conv2d(1, 32, 3, 1, 1, true, rng), new BatchNorm2d(32), new ReLU(),
                    new Conv2d(32, 32, 3, 1, 1, true, rng), new BatchNorm2d(32), new ReLU(),
                    new MaxPool2d(2),
                    new Conv2d(32, 64, 3, 1, 1, true, rng), new BatchNorm2d(64), new ReLU(),
                    new Conv2d(64, 64, 3, 1, 1, true, rng), new BatchNorm2d(64), new ReLU(),
                    new MaxPool2d(2),
                    new Flatten(),
                    new Linear(3136, 256, rng), new ReLU(), new Dropout(0.3, rng.nextLong()),
                    new Linear(256, 10, rng));
            case "cnn-student" -> new Sequential(
                    new Conv2d(1, 8, 3, 1, 1, true, rng), new ReLU(), new MaxPool2d(2),
                    new Conv2d(8, 16, 3, 1, 1, true, rng), new ReLU(), new MaxPool2d(2),
                    new Flatten(),
                    new Linear(784, 10, rng));
            case "mlp-teacher" -> new Sequential(
                    new Flatten(),
                    new Linear(784, 1200, rng), new ReLU(), new Dropout(0.5, rng.nextLong()),
                    new Linear(1200, 1200, rng), new ReLU(), new Dropout(0.5, rng.nextLong()),
                    new Linear(1200, 10, rng));
            case "mlp-student" -> mlp(800, rng);
            case "mlp-tiny" -> mlp(30, rng);
            case "resnet20" -> new CifarResNet(20, 3, 10, rng);
            case "resnet8" -> new CifarResNet(8, 3, 10, rng);
            default -> throw new IllegalArgumentException("unknown model '" + name + "': expected one of " + NAMES);
        };
    }

    private static Sequential mlp(int hidden, SplittableRandom rng) {
        return new Sequential(
                new Flatten(),
                new Linear(784, hidden, rng), new ReLU(),
                new Linear(hidden, hidden, rng), new ReLU(),
                new Linear(hidden, 10, rng));
    }
}
