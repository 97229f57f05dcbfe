package dev.retort.cli;

import dev.retort.backend.Shapes;
import dev.retort.data.ImageFolder;
import dev.retort.io.Npy;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What {@code retort predict} reads from {@code --input}: a {@code .npy} file of examples, one PNG or JPEG image, or
 * a folder of them (its own files, in name order). Images come back as raw pixels 0..255 laid out as the network
 * takes them, still to be normalised; a {@code .npy} file's values come back as they are.
 *
 * @param values the examples, row-major
 * @param shape  [N, ...]: the examples' shape as read
 * @param images whether the values are an image file's pixels, which always need a normalisation
 * @param names  the image files, one per row (empty for a .npy file)
 */
record PredictInput(float[] values, int[] shape, boolean images, List<Path> names) {
    /** Whether {@code file} is named as a PNG or JPEG image. */
    static boolean isImage(Path file) {
        return ImageFolder.isImageFile(file);
    }

    /**
     * Reads {@code input}; images are checked against {@code want}, the network's input of one example ([C, H, W],
     * or [features] for a JSON network that takes flat inputs), and every error names the file.
     */
    static PredictInput read(Path input, int[] want, String model) throws IOException {
        if (Files.isDirectory(input)) {
            List<Path> files;
            try (Stream<Path> entries = Files.list(input)) {
                files = entries.filter(ImageFolder::isImageFile).sorted().toList();
            }
            if (files.isEmpty()) {
                throw new IOException("--input " + input + ": no .png, .jpg or .jpeg images in the folder (its "
                        + "subfolders are not read)");
            }
            return images(files, want, model);
        }
        if (!Files.isRegularFile(input)) {
            throw new IOException("--input " + input + ": no such file or folder");
        }
        if (isImage(input)) {
            return images(List.of(input), want, model);
        }
        try (Tensor read = Npy.read(input)) {
            return new PredictInput(read.toFloatArray(), read.shape(), false, List.of());
        }
    }

    private static PredictInput images(List<Path> files, int[] want, String model) throws IOException {
        List<ImageFolder.Image> read = new ArrayList<>();
        for (Path f : files) {
            read.add(ImageFolder.read(f));
        }
        ImageFolder.Image first = read.get(0);
        int plane = first.width() * first.height();
        // A flat network input of C × H × W values takes the image's channels in the order [C, H, W] too.
        int channels = want.length == 3 ? want[0] : want.length == 1 && want[0] == 3 * plane ? 3 : 1;
        int height = want.length == 3 ? want[1] : first.height();
        int width = want.length == 3 ? want[2] : first.width();
        if (channels != 1 && channels != 3) {
            throw new IOException("--model " + model + " takes " + Shapes.format(want) + ": " + channels
                    + " channels, which no PNG or JPEG image has (1 for grey, 3 for RGB)");
        }
        int per = channels * height * width;
        float[] values = new float[files.size() * per];
        for (int i = 0; i < files.size(); i++) {
            ImageFolder.Image image = read.get(i);
            Path file = files.get(i);
            if (image.width() != width || image.height() != height) {
                throw new IOException(file + ": " + image.width() + "×" + image.height() + " pixels, but --model "
                        + model + " takes " + width + "×" + height + "; resize it first");
            }
            if (channels == 1 && !image.grey()) {
                throw new IOException(file + ": a colour image, but --model " + model + " takes one channel (grey "
                        + "images); convert it to greyscale first");
            }
            int[] rgb = image.rgb();
            for (int p = 0; p < rgb.length; p++) {
                for (int c = 0; c < channels; c++) {
                    // As ImageFolder reads a training image: channel c of packed RGB, grey images R = G = B.
                    values[i * per + c * rgb.length + p] = (rgb[p] >> (16 - 8 * c)) & 0xff;
                }
            }
        }
        return new PredictInput(values, new int[] {files.size(), channels, height, width}, true, files);
    }
}
