package dev.retort.train;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Line charts of training curves (loss, accuracy per epoch) written as PNG files, without a display. */
public final class Plots {
    static final int WIDTH = 800;
    static final int HEIGHT = 500;

    static {
        // Before any AWT class loads: servers and CI have no display, and a user who set the
        // property either way knows better.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** One line of a chart: the points (x[i], y[i]), drawn in order, with error bars ± error[i] where given. */
    public record Series(String name, double[] x, double[] y, double[] error) {
        /** A line without error bars. */
        public Series(String name, double[] x, double[] y) {
            this(name, x, y, null);
        }
    }

    private Plots() {}

    /**
     * Writes an 800×500 PNG line chart of {@code series} to {@code file}, creating its folder if
     * needed. The chart is rendered to a temporary file in the same folder and then moved over
     * {@code file}, so a reader never sees half a PNG and a failed call leaves an older file intact.
     *
     * @throws IllegalArgumentException before anything is written, naming the series (and the index
     *     where it applies), when the list is empty, a name is blank or repeated, a series has no
     *     points, x and y differ in length, or a value is NaN or infinite: such points are rejected
     *     rather than skipped, so that a diverged run shows as an error, not as a gap in the curve
     * @throws IOException when the PNG cannot be written or moved into place
     * @throws IllegalStateException when Java finds no font for the text (on Debian: install
     *     fontconfig and fonts-dejavu-core)
     */
    public static void lineChart(Path file, String title, String xLabel, String yLabel, List<Series> series)
            throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(xLabel, "xLabel");
        Objects.requireNonNull(yLabel, "yLabel");
        check(series);

        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setDecimalPattern("#,##0.###");
        for (Series s : series) {
            // Markers only where lines alone could vanish: a series of one point draws no line at all.
            (s.error() == null ? chart.addSeries(s.name(), s.x(), s.y())
                    : chart.addSeries(s.name(), s.x(), s.y(), s.error())).setMarker(s.x().length < 12 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }

        Path target = file.toAbsolutePath();
        Path folder = target.getParent();
        Files.createDirectories(folder);
        // Not Files.createTempFile: its 0600 permissions would carry over to the chart.
        Path temp = folder.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW)) {
                render(chart, out);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private static void render(XYChart chart, OutputStream out) throws IOException {
        try {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        } catch (InternalError e) {
            // A machine without fonts fails this way at the first text layout ("Fontconfig head is null").
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            String reason = String.valueOf(root.getMessage());
            if (!reason.toLowerCase(Locale.ROOT).contains("font")) {
                throw e;
            }
            throw new IllegalStateException("Plots.lineChart: Java found no font to draw the chart's text ("
                    + reason + "); install one, on Debian: apt-get install fontconfig fonts-dejavu-core", e);
        }
    }

    private static void check(List<Series> series) {
        if (series == null || series.isEmpty()) {
            throw new IllegalArgumentException("Plots.lineChart: no series to draw; pass at least one");
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            if (s == null || s.name() == null || s.name().isBlank()) {
                throw new IllegalArgumentException("Plots.lineChart: series " + i + " has no name");
            }
            String name = "Plots.lineChart: series '" + s.name() + "'";
            if (!names.add(s.name())) {
                throw new IllegalArgumentException(name + " appears twice; names label the legend");
            }
            if (s.x() == null || s.y() == null) {
                throw new IllegalArgumentException(name + " has no " + (s.x() == null ? "x" : "y") + " values");
            }
            if (s.x().length != s.y().length) {
                throw new IllegalArgumentException(
                        name + " has " + s.x().length + " x values but " + s.y().length + " y values");
            }
            if (s.x().length == 0) {
                throw new IllegalArgumentException(name + " has no points");
            }
            finite(name, "x", s.x());
            finite(name, "y", s.y());
            if (s.error() != null) {
                if (s.error().length != s.y().length) {
                    throw new IllegalArgumentException(
                            name + " has " + s.y().length + " y values but " + s.error().length + " error bars");
                }
                finite(name, "error", s.error());
            }
        }
    }

    private static void finite(String name, String axis, double[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(
                        name + " has " + axis + "[" + i + "] = " + values[i] + "; only finite values can be drawn");
            }
        }
    }
}
