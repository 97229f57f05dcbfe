package dev.retort.train;

import java.io.Console;
import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.text.DecimalFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows how far a long loop (training epochs, evaluation, caching teacher outputs) has got, with its
 * rate and estimated time left: a live bar on a terminal, a plain line every 10 seconds otherwise.
 *
 * <p>A library is quiet: nothing is shown until the application names a stream with {@link #showOn}
 * (the command line passes standard output). The live bar needs the progressbar library, an optional
 * dependency of the engine; without it the plain lines are shown. The system property
 * {@code retort.progress} = {@code bar}, {@code plain} or {@code off} overrides the terminal detection;
 * {@code off} prints nothing. A plain line reads
 * <pre>  epoch 3/10 train: 234/468 batch (50%), 812.3 batch/s, ETA 0:00:12, loss 0.4312</pre>
 * and the last one, printed by {@link #close()}, gives the time taken instead of the ETA:
 * <pre>  epoch 3/10 train: 468/468 batch (100%), 815.0 batch/s, took 0:00:34, loss 0.4012</pre>
 */
public final class Progress implements AutoCloseable {
    /** A plain line at most this often, so that CI logs and redirected output stay short. */
    static final long PLAIN_INTERVAL_NANOS = 10_000_000_000L;
    private static final int BAR_UPDATE_MILLIS = 250;
    private static final String PROPERTY = "retort.progress";
    /** Where {@link #start} shows progress; null (the default) shows nothing. */
    private static volatile PrintStream shownOn;

    /** How the progress is shown. */
    enum Mode { BAR, PLAIN, OFF }

    private final Mode mode;
    private final String task;
    private final long total;
    private final String unit;
    private final PrintStream out;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private final LiveBar bar;
    private long done;
    private long lastPrintNanos;
    private String extra = "";
    private boolean closed;

    Progress(Mode mode, String task, long total, String unit, PrintStream out, LongSupplier nanoTime) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.task = Objects.requireNonNull(task, "task");
        this.unit = Objects.requireNonNull(unit, "unit");
        this.out = Objects.requireNonNull(out, "out");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        if (total < 0) {
            throw new IllegalArgumentException(
                    "Progress '" + task + "': total must be >= 0 " + unit + ", got " + total);
        }
        this.total = total;
        this.startNanos = nanoTime.getAsLong();
        this.lastPrintNanos = startNanos;
        this.bar = mode == Mode.BAR ? new LiveBar(task, total, unit, out) : null;
    }

    /**
     * Shows the progress of every later {@link #start} on {@code out}; null (the default) shows nothing. The
     * application decides this, once: the engine never writes to standard output by itself.
     */
    public static void showOn(PrintStream out) {
        shownOn = out;
    }

    /**
     * Starts showing the progress of {@code task} towards {@code total} steps of {@code unit} (such as
     * "batch" or "img") on the stream given to {@link #showOn}, or nowhere; a total of 0 means unknown: no
     * percentage and no ETA.
     */
    public static Progress start(String task, long total, String unit) {
        PrintStream out = shownOn;
        return out == null ? new Progress(Mode.OFF, task, total, unit, System.out, System::nanoTime)
                : new Progress(mode(), task, total, unit, out, System::nanoTime);
    }

    /** Advances by {@code n} units; {@code n} must not be negative. */
    public synchronized void step(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("Progress '" + task + "': step must be >= 0 " + unit
                    + ", got " + n + "; progress only moves forward");
        }
        if (closed) {
            throw new IllegalStateException("Progress '" + task + "' is closed; start a new one");
        }
        done += n;
        switch (mode) {
            case BAR -> bar.stepBy(n);
            case PLAIN -> {
                long now = nanoTime.getAsLong();
                if (now - lastPrintNanos >= PLAIN_INTERVAL_NANOS) {
                    lastPrintNanos = now;
                    out.println(plainLine(now, false));
                }
            }
            case OFF -> { }
        }
    }

    /** Sets the short text shown after the numbers, such as "loss 0.4312"; null or empty clears it. */
    public synchronized void message(String extra) {
        this.extra = extra == null ? "" : extra;
        if (bar != null) {
            // The bar glues the message straight onto the speed.
            bar.setExtraMessage(this.extra.isEmpty() ? "" : " " + this.extra);
        }
    }

    /** Prints the final state once; later calls do nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        switch (mode) {
            case BAR -> bar.close();
            case PLAIN -> out.println(plainLine(nanoTime.getAsLong(), true));
            case OFF -> { }
        }
    }

    String plainLine(long now, boolean last) {
        StringBuilder line = new StringBuilder("  ").append(task).append(": ");
        if (total > 0) {
            line.append(done).append('/').append(total).append(' ').append(unit)
                    .append(" (").append(done * 100 / total).append("%)");
        } else {
            line.append(done).append(' ').append(unit);
        }
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0 ? done / seconds : Double.NaN;
        line.append(", ").append(Double.isNaN(rate) ? "?" : String.format(Locale.ROOT, "%.1f", rate))
                .append(' ').append(unit).append("/s");
        if (last) {
            line.append(", took ").append(clock(seconds));
        } else if (total > 0 && done >= total) {
            line.append(", ETA 0:00:00");
        } else {
            line.append(", ETA ").append(total > 0 && rate > 0 ? clock((total - done) / rate) : "?");
        }
        if (!extra.isEmpty()) {
            line.append(", ").append(extra);
        }
        return line.toString();
    }

    /** H:MM:SS, hours unbounded, as progress bars and {@code time} show durations. */
    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    static Mode mode() {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            switch (configured.trim().toLowerCase(Locale.ROOT)) {
                case "bar": return BarLibrary.PRESENT ? Mode.BAR : Mode.PLAIN;
                case "plain": return Mode.PLAIN;
                case "off": return Mode.OFF;
                default:
                    System.getLogger(Progress.class.getName()).log(System.Logger.Level.WARNING,
                            "retort.progress=''{0}'' is not bar, plain or off; detecting the terminal",
                            configured);
            }
        }
        return isTerminal() && BarLibrary.PRESENT ? Mode.BAR : Mode.PLAIN;
    }

    /** Whether the optional progressbar library is on the class path (looked up once, by name). */
    private static final class BarLibrary {
        static final boolean PRESENT = present();

        private static boolean present() {
            try {
                Class.forName("me.tongfei.progressbar.ProgressBar", false, Progress.class.getClassLoader());
                return true;
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }
    }

    private static boolean isTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        // From JDK 22 on System.console() is non-null for redirected streams too, and only
        // Console.isTerminal() (22+) tells; we compile for 17, hence the look-up.
        try {
            MethodHandle isTerminal = MethodHandles.publicLookup()
                    .findVirtual(Console.class, "isTerminal", MethodType.methodType(boolean.class));
            return (boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException | IllegalAccessException beforeJdk22) {
            return true;
        } catch (Throwable unexpected) {
            return false;
        }
    }

    /**
     * The live bar, in a class of its own: the progressbar library is optional, and only this class links it,
     * so an embedder without the library loads Progress without it.
     */
    private static final class LiveBar {
        private final ProgressBar bar;

        LiveBar(String task, long total, String unit, PrintStream out) {
            Console console = System.console();
            // The default style draws Unicode blocks, which come out as '?' on a non-UTF-8 terminal.
            boolean unicode = console != null && StandardCharsets.UTF_8.equals(console.charset());
            bar = new ProgressBarBuilder()
                    .setTaskName(task)
                    // The bar reads a max of 0 as "nothing to do yet"; -1 is its "unknown total".
                    .setInitialMax(total > 0 ? total : -1)
                    .setUnit(" " + unit, 1)
                    .showSpeed(new DecimalFormat("0.0"))
                    .setStyle(unicode ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(BAR_UPDATE_MILLIS)
                    // The library writes to System.err by default; on the stream given to showOn the bar stays
                    // in order with the lines the command prints.
                    .setConsumer(new ConsoleProgressBarConsumer(out))
                    .build();
        }

        void stepBy(long n) {
            bar.stepBy(n);
        }

        void setExtraMessage(String message) {
            bar.setExtraMessage(message);
        }

        void close() {
            bar.close();
        }
    }
}
