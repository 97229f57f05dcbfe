package dev.retort.bench;

import dev.retort.backend.Backends;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * The entry point of benchmarks.jar: JMH's own command line, with one difference. A run that names no benchmark
 * (such as {@code java -jar benchmarks.jar} with no argument) leaves out the {@code Cuda*} benchmarks when CUDA is
 * not usable on this machine, and says so in one line with the CUDA backend's reason, instead of failing each of
 * them at setup. Naming a benchmark (a pattern) keeps JMH's behaviour: a {@code Cuda*} benchmark named without a
 * GPU fails at setup with that reason.
 *
 * <p>Under {@code RETORT_EMULATED_CUDA=1} the {@code Cuda*} benchmarks are meant to run on the emulated CUDA device,
 * so they are never left out; when that device is not on the loader path the run stops with one line saying how to
 * put it there.
 */
public final class Main {
    /** What the {@code Cuda*} benchmarks' full names match (JMH matches patterns anywhere in the name). */
    static final String CUDA_BENCHMARKS = "^dev\\.retort\\.bench\\.Cuda[A-Za-z0-9]*Benchmark\\.";
    /** Exit status when RETORT_EMULATED_CUDA=1 but no CUDA device, emulated or not, is usable. */
    static final int EMULATED_DEVICE_MISSING = 2;

    private Main() {}

    public static void main(String[] args) throws Exception {
        boolean emulated = "1".equals(System.getenv("RETORT_EMULATED_CUDA"));
        List<String> jmhArgs = arguments(args, emulated, Main::probeCuda, System.out);
        if (jmhArgs == null) {
            System.exit(EMULATED_DEVICE_MISSING);
        }
        org.openjdk.jmh.Main.main(jmhArgs.toArray(new String[0]));
    }

    /**
     * JMH's arguments for this command line: {@code args} as given, or with the {@code Cuda*} benchmarks excluded
     * when no benchmark is named and {@code cudaReason} gives a reason. Null (after one line on {@code out}) when
     * {@code emulated} asks for the emulated device and CUDA is not usable. The reason is asked for only when it
     * matters: a run that names benchmarks, lists or prints help starts no CUDA probe.
     */
    static List<String> arguments(String[] args, boolean emulated, Supplier<String> cudaReason, PrintStream out) {
        List<String> result = new ArrayList<>(List.of(args));
        CommandLineOptions options;
        try {
            options = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            return result; // JMH says what is wrong with the command line
        }
        boolean runs = !(options.shouldHelp() || options.shouldList() || options.shouldListWithParams()
                || options.shouldListProfilers() || options.shouldListResultFormats());
        if (!runs || !options.getIncludes().isEmpty()) {
            return result;
        }
        String reason = cudaReason.get();
        if (reason == null) {
            return result;
        }
        if (emulated) {
            out.println("benchmarks: RETORT_EMULATED_CUDA=1, but CUDA is not usable (" + reason + "); put the emulated "
                    + "device on the loader path first: source OUTDIR/env after native/emulated-cuda/build.sh OUTDIR, "
                    + "or run benchmarks/gpu-check.sh --emulated");
            return null;
        }
        out.println("benchmarks: the CUDA benchmarks (Cuda*) are skipped: " + reason
                + " (name one, e.g. CudaDistillationBenchmark, to run it anyway)");
        result.add(0, "-e");
        result.add(1, CUDA_BENCHMARKS);
        return result;
    }

    /**
     * Null when the CUDA backend is usable here, else its one-sentence reason. Asked in a JVM of its own, so that
     * this one (JMH's host, which forks the benchmarks' JVMs) holds no CUDA context on the card while they run, and
     * a driver that crashes the JVM cannot take the run with it.
     */
    static String probeCuda() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // (Its stderr, JCuda's and the JVM's warnings, is not the answer.)
        ProcessBuilder probe = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                Probe.class.getName()).redirectError(ProcessBuilder.Redirect.DISCARD);
        try {
            Process p = probe.start();
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int status = p.waitFor();
            if (status != 0 || said.isEmpty()) {
                return "the CUDA probe (java " + Probe.class.getName() + ") exited with status " + status
                        + " and no answer";
            }
            return said.equals(Probe.USABLE) ? null : said;
        } catch (IOException e) {
            return "the CUDA probe could not start: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "the CUDA probe was interrupted";
        }
    }

    /** The probe's JVM: prints {@value #USABLE}, or the reason CUDA is not usable, on one line. */
    public static final class Probe {
        static final String USABLE = "usable";

        private Probe() {}

        public static void main(String[] args) {
            String reason = Backends.cudaUnavailableReason();
            System.out.println(reason == null ? USABLE : reason.replace('\n', ' '));
            System.exit(0);
        }
    }
}
