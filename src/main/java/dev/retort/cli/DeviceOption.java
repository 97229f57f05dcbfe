package dev.retort.cli;

import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.cpu.Parallel;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * The {@code --device cpu|cuda|auto} option shared by every command that computes: it decides the
 * backend up front, so that an unusable GPU is reported before any work starts, with its reason. A
 * misspelt device, a thread count out of range, and {@code cuda} on a machine where it is not usable are
 * each one line on stderr and exit 1.
 */
public final class DeviceOption {
    @Option(names = "--device", defaultValue = "auto", paramLabel = "cpu|cuda|auto",
            description = "Where to compute: cpu, cuda, or auto (CUDA when it is usable, else CPU; "
                    + "default ${DEFAULT-VALUE}).")
    String device = "auto";

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads of the CPU kernels (default: -Dretort.threads, else every core).")
    Integer threads;

    /** What the user asked for: "cpu", "cuda" or "auto". */
    public String requested() {
        return device;
    }

    /**
     * The device to run on. With auto and no usable CUDA, one line on {@code log} says why the CPU was chosen —
     * unless there is no NVIDIA driver or device at all, where the CPU is the only choice and nothing is said.
     *
     * @throws IllegalStateException for {@code cuda} when it is not usable here, with the reason
     */
    public Device resolve(PrintStream log) {
        return resolve(line -> log.println(line));
    }

    /** As {@link #resolve(PrintStream)}, logging to a picocli writer ({@code spec.commandLine().getOut()}). */
    public Device resolve(PrintWriter log) {
        return resolve(line -> {
            log.println(line);
            log.flush();
        });
    }

    private Device resolve(Consumer<String> log) {
        if (threads != null) {
            String problem = Parallel.threadCountProblem(threads);
            if (problem != null) {
                throw error("--threads " + threads + ": " + problem);
            }
            Parallel.setThreads(threads);
        }
        switch (device.toLowerCase(Locale.ROOT)) {
            case "cpu":
                return Device.CPU;
            case "cuda": {
                String reason = cudaUnavailableReason();
                if (reason != null) {
                    throw new IllegalStateException("--device cuda: CUDA is not usable: " + reason
                            + "; use --device cpu");
                }
                return Device.CUDA;
            }
            case "auto": {
                String reason = cudaUnavailableReason();
                if (reason == null) {
                    return Device.CUDA;
                }
                // No NVIDIA driver or device: the CPU is the only choice, and there is nothing to fix. A GPU that
                // this build cannot use (kernels or libraries missing) is worth the line.
                if (!Backends.cudaDriverMissing()) {
                    log.accept("device: cpu (CUDA is not usable: " + reason + ")");
                }
                return Device.CPU;
            }
            default:
                throw error("--device " + device + ": expected cpu, cuda or auto");
        }
    }

    /** Null when the CUDA backend starts; else why not (a missing build piece, driver or library). */
    private static String cudaUnavailableReason() {
        String reason = Backends.cudaUnavailableReason();
        if (reason != null) {
            return reason;
        }
        try {
            Backends.of(Device.CUDA);
            return null;
        } catch (RuntimeException | LinkageError e) {
            return e.getMessage() != null ? e.getMessage() : e.toString();
        }
    }

    /** A value the command refuses: one line, exit 1 (ReportingCommand). */
    private static RuntimeException error(String message) {
        return new IllegalArgumentException(message);
    }
}
