package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {
    @TempDir
    Path dir;

    private static final double[] EPOCHS = {1, 2, 3, 4, 5};
    private static final List<Plots.Series> CURVES = List.of(
            new Plots.Series("train loss", EPOCHS, new double[] {2.3, 1.1, 0.7, 0.5, 0.4}),
            new Plots.Series("val loss", EPOCHS, new double[] {2.2, 1.2, 0.8, 0.7, 0.7}));

    private List<Path> files() throws IOException {
        try (Stream<Path> listing = Files.list(dir)) {
            return listing.sorted().toList();
        }
    }

    @Test
    void writesAPngOfTheChartsSizeAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("loss.png");
        Plots.lineChart(file, "Fashion-MNIST, mlp", "epoch", "loss", CURVES);
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, "ImageIO reads the file as an image");
        assertEquals(Plots.WIDTH, image.getWidth());
        assertEquals(Plots.HEIGHT, image.getHeight());
        assertEquals(List.of(file), files());
    }

    @Test
    void replacesAnOlderChart() throws IOException {
        Path file = dir.resolve("loss.png");
        Files.writeString(file, "an older chart");
        Plots.lineChart(file, "loss", "epoch", "loss", CURVES.subList(0, 1));
        assertNotNull(ImageIO.read(file.toFile()));
        assertEquals(List.of(file), files());
    }

    @Test
    void aRejectedSeriesLeavesTheOlderFileUntouched() throws IOException {
        Path file = dir.resolve("loss.png");
        byte[] older = "an older chart".getBytes(StandardCharsets.UTF_8);
        Files.write(file, older);
        List<Plots.Series> diverged = List.of(CURVES.get(0),
                new Plots.Series("val loss", EPOCHS, new double[] {2.2, 1.2, 0.8, Double.NaN, 0.7}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Plots.lineChart(file, "loss", "epoch", "loss", diverged));
        assertTrue(e.getMessage().contains("'val loss'") && e.getMessage().contains("y[3] = NaN"), e.getMessage());
        assertArrayEquals(older, Files.readAllBytes(file));
        assertEquals(List.of(file), files());
    }

    @Test
    void aFailedMoveLeavesTheTargetAndNoTemporaryFile() throws IOException {
        Path occupied = dir.resolve("loss.png");
        Files.createDirectory(occupied);
        Files.writeString(occupied.resolve("keep.txt"), "keep");
        assertThrows(IOException.class, () -> Plots.lineChart(occupied, "loss", "epoch", "loss", CURVES));
        assertEquals("keep", Files.readString(occupied.resolve("keep.txt")));
        assertEquals(List.of(occupied), files());
    }

    @Test
    void errorsNameTheSeries() {
        Path file = dir.resolve("loss.png");
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> Plots.lineChart(file, "t", "x", "y",
                        List.of(new Plots.Series("accuracy", EPOCHS, new double[] {0.5, 0.6}))));
        assertTrue(mismatch.getMessage().contains("'accuracy' has 5 x values but 2 y values"), mismatch.getMessage());
        IllegalArgumentException infinite = assertThrows(IllegalArgumentException.class,
                () -> Plots.lineChart(file, "t", "x", "y", List.of(new Plots.Series("lr",
                        new double[] {1, Double.POSITIVE_INFINITY}, new double[] {0.1, 0.01}))));
        assertTrue(infinite.getMessage().contains("'lr' has x[1] = Infinity"), infinite.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> Plots.lineChart(file, "t", "x", "y", List.of(CURVES.get(0), CURVES.get(0))));
        assertTrue(twice.getMessage().contains("'train loss' appears twice"), twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Plots.lineChart(file, "t", "x", "y", List.of()));
        assertTrue(Files.notExists(file));
    }
}
