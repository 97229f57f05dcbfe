package dev.retort.train;

import dev.retort.Version;
import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.diagnostics.ParitySweep;
import dev.retort.backend.cpu.CpuBackend;
import dev.retort.backend.cuda.CudaAvailability;
import dev.retort.backend.cuda.CudaDeviceInfo;
import dev.retort.backend.cuda.CudaRuntime;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.distill.DistillationLoss;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code retort doctor} checks: the Java and CPU setup, whether CUDA is usable and why not, the
 * device and the components bound to it, then a parity sweep of every backend op against the CPU in
 * float64 and a short distillation run on GPU and CPU from the same weights and batches.
 *
 * <p>Exit status: 0 when every check ran and passed; 1 when CUDA is not usable (unless the doctor was
 * asked for the CPU only) or any parity case or the distillation comparison missed its tolerance.
 */
public final class Doctor {
    /** A distillation run's loss may drift from the CPU's as float rounding compounds over SGD steps, but no more. */
    public static final double DISTILLATION_TOLERANCE = 1e-2;
    /** The first step starts from identical weights: only the forward pass's rounding differs. */
    public static final double FIRST_STEP_TOLERANCE = 1e-4;

    private final PrintWriter out;
    private final boolean cpuOnly;
    private final int steps;
    private final int batch;
    private final long seed;

    /**
     * @param out     where the report goes, line by line as checks finish
     * @param cpuOnly check the CPU alone: an unusable CUDA is then reported but not a failure
     * @param steps   distillation steps of the GPU-against-CPU comparison
     * @param batch   images per step of that comparison
     * @param seed    seed of the parity sweep's inputs, the synthetic data and both networks' weights
     */
    public Doctor(PrintWriter out, boolean cpuOnly, int steps, int batch, long seed) {
        this.out = out;
        this.cpuOnly = cpuOnly;
        this.steps = steps;
        this.batch = batch;
        this.seed = seed;
    }

    /** Runs every check, printing as it goes; returns the exit status. */
    public int run() {
        environment();
        String cudaReason = cuda();
        Backend cuda = cudaReason == null ? Backends.of(Device.CUDA) : null;
        int parityMisses = parity(cuda);
        boolean distillationPassed = distillation(cuda);
        out.println();
        List<String> problems = new ArrayList<>();
        if (cudaReason != null && !cpuOnly) {
            problems.add("CUDA is not usable: " + cudaReason);
        }
        if (parityMisses > 0) {
            problems.add(parityMisses + " parity case" + (parityMisses == 1 ? "" : "s") + " missed");
        }
        if (!distillationPassed) {
            problems.add("the distillation run " + (cuda == null ? "failed" : "on cuda differs from the cpu"));
        }
        if (problems.isEmpty()) {
            out.println("doctor: all checks passed" + (cuda == null ? " (CPU only)" : ""));
            out.flush();
            return 0;
        }
        out.println("doctor: " + String.join("; ", problems));
        out.flush();
        return 1;
    }

    /** Java, operating system and the CPU backend. */
    public void environment() {
        out.println("retort " + Version.VERSION + " doctor");
        line("java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ", "
                + System.getProperty("java.vm.name") + ") at " + System.getProperty("java.home"));
        line("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " processors");
        line("cpu", CpuBackend.get().describe());
        out.flush();
    }

    /** CUDA's status, device and components; returns null when the backend is usable, else the reason. */
    public String cuda() {
        String reason = CudaAvailability.unavailableReason();
        line("cuda", reason == null ? "usable" : "not usable");
        for (CudaAvailability.Result r : CudaAvailability.results()) {
            line("  " + r.name(), r.passed() ? "ok" : r.reason());
        }
        if (CudaAvailability.driverUnavailableReason() == null) {
            CudaRuntime runtime = CudaRuntime.get();
            CudaDeviceInfo info = runtime.info();
            line("driver", "CUDA " + CudaDeviceInfo.formatVersion(info.driverVersion()) + " (cuDriverGetVersion "
                    + info.driverVersion() + ")");
            line("device", info.describe());
            long[] memory = runtime.deviceMemory();
            line("memory", String.format(Locale.ROOT, "%.1f GiB free of %.1f GiB; %s", memory[0] / 1073741824.0,
                    memory[1] / 1073741824.0, runtime.allocationSource()));
        }
        line("kernels", CudaAvailability.describe(CudaAvailability.KERNELS));
        line("libraries", CudaAvailability.describe(CudaAvailability.BRIDGE));
        out.flush();
        return reason;
    }

    /**
     * Every op on random inputs, float32 on the CPU and (when given) on CUDA, against the CPU in float64.
     * Returns the number of misses; a CPU miss counts too, since it means the reference kernels disagree.
     */
    public int parity(Backend cuda) {
        out.println();
        out.printf(Locale.ROOT, "parity: float32 against the CPU in float64, relative L2 error (tolerance %.0e, "
                + "KD kernels %.0e)%n", ParitySweep.FLOAT32_TOLERANCE, ParitySweep.KD_TOLERANCE);
        out.printf(Locale.ROOT, "%-24s %-48s %-9s %s%n", "op", "shapes", "cpu", cuda == null ? "" : "cuda");
        int misses = 0;
        int cases = 0;
        long caseSeed = seed;
        String lostIn = null; // after a device fault every later case would fail the same way: they are not run
        for (ParitySweep.Case c : ParitySweep.cases()) {
            cases++;
            caseSeed++;
            ParitySweep.Outcome cpu = ParitySweep.run(c, CpuBackend.get(), caseSeed);
            ParitySweep.Outcome gpu = cuda == null ? null
                    : lostIn != null ? ParitySweep.Outcome.notRun(lostIn) : ParitySweep.run(c, cuda, caseSeed);
            if (gpu != null && gpu.deviceLost() && lostIn == null) {
                lostIn = c.op() + " " + c.detail();
                out.println("parity: the GPU faulted in " + lostIn + "; the later cases are not run: "
                        + gpu.failure());
            }
            boolean missed = !cpu.passed(c.tolerance()) || (gpu != null && !gpu.passed(c.tolerance()));
            if (missed) {
                misses++;
            }
            out.printf(Locale.ROOT, "%-24s %-48s %-9s %s%s%n", c.op(), c.detail(), cell(cpu),
                    gpu == null ? "" : cell(gpu), missed ? "   MISS" : "");
        }
        out.printf(Locale.ROOT, "parity: %d cases, %d missed%n", cases, misses);
        out.flush();
        return misses;
    }

    private static String cell(ParitySweep.Outcome o) {
        String s = o.format();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    /**
     * {@code steps} hinton-mode distillation steps of cnn-student from cnn-teacher on synthetic batches,
     * on the CPU and (when given) on CUDA, from the same initial weights and batches, through the trainer and
     * objective a {@code retort distill} run uses; compares the losses.
     */
    public boolean distillation(Backend cuda) {
        out.println();
        out.printf(Locale.ROOT, "distillation: cnn-teacher → cnn-student, hinton (T %.0f, α %.1f), batch %d, %d steps, "
                + "same weights and batches%n", DistillationLoss.DEFAULT_TEMPERATURE, DistillationLoss.DEFAULT_ALPHA,
                batch, steps);
        double[] cpu;
        try {
            cpu = distillationLosses(Device.CPU);
        } catch (RuntimeException e) {
            out.println("distillation on cpu failed: " + e.getMessage());
            return false;
        }
        double[] gpu = null;
        String gpuFailure = null;
        if (cuda != null) {
            try {
                gpu = distillationLosses(Device.CUDA);
            } catch (RuntimeException e) {
                gpuFailure = e.getMessage() != null ? e.getMessage() : e.toString();
            }
        }
        out.printf(Locale.ROOT, "%-6s %-12s %-12s %s%n", "step", "cpu loss", cuda == null ? "" : "cuda loss",
                cuda == null ? "" : "rel. diff");
        double worst = 0;
        double first = 0;
        for (int i = 0; i < steps; i++) {
            double diff = gpu == null ? 0 : Math.abs(gpu[i] - cpu[i]) / Math.max(Math.abs(cpu[i]), 1e-6);
            if (Double.isNaN(diff)) {
                diff = Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, diff);
            if (i == 0) {
                first = diff;
            }
            if (i == 0 || (i + 1) % 10 == 0 || i == steps - 1) {
                out.printf(Locale.ROOT, "%-6d %-12.6f %-12s %s%n", i + 1, cpu[i],
                        gpu == null ? "" : String.format(Locale.ROOT, "%.6f", gpu[i]),
                        gpu == null ? "" : String.format(Locale.ROOT, "%.1e", diff));
            }
        }
        boolean finite = Arrays.stream(cpu).allMatch(Double::isFinite);
        if (!finite) {
            out.println("distillation: the cpu loss is not finite");
            return false;
        }
        if (cuda == null) {
            out.println("distillation: cpu only (no CUDA to compare)");
            return true;
        }
        if (gpuFailure != null) {
            out.println("distillation on cuda failed: " + gpuFailure);
            return false;
        }
        boolean passed = first <= FIRST_STEP_TOLERANCE && worst <= DISTILLATION_TOLERANCE;
        out.printf(Locale.ROOT, "distillation: first step %.1e (tolerance %.0e), largest %.1e (tolerance %.0e)%s%n",
                first, FIRST_STEP_TOLERANCE, worst, DISTILLATION_TOLERANCE, passed ? "" : "   MISS");
        out.flush();
        return passed;
    }

    /**
     * The loss of each step on one device: one epoch of {@code steps} batches (SGD with momentum 0.9 at a constant
     * learning rate of 0.05), the teacher's outputs cached first as a run without augmentation does.
     */
    double[] distillationLosses(Device device) {
        Dataset data = SyntheticImages.generate("doctor", batch * steps, 10, 28, seed);
        TrainingConfig config = new TrainingConfig("cnn-student", 1, batch, "sgd", 0.05, 0.9, false, 0, "constant", 0,
                0, 0, false, data.size(), seed, batch, device);
        DistillationConfig hinton = DistillationConfig.defaults("hinton", "cnn-teacher", null);
        double[] losses = new double[steps];
        try (Module teacher = Models.create("cnn-teacher", seed);
             Module student = Models.create("cnn-student", seed + 1)) {
            student.to(device);
            try (DistillationObjective objective = DistillationObjective.create(hinton, teacher, student, data, config,
                    steps, null);
                 Trainer trainer = new Trainer(student, objective, config, data)) {
                trainer.log(null, "doctor on " + device + ": ")
                        .onStep((step, terms) -> losses[(int) step - 1] = terms.get("loss"));
                trainer.trainEpoch();
            }
        }
        return losses;
    }

    private void line(String key, String value) {
        out.printf(Locale.ROOT, "%-10s %s%n", key, value);
    }
}
