package dev.retort.optim;

/** The learning rate as a function of the step (or epoch) number, counted from 0. */
@FunctionalInterface
public interface LearningRateSchedule {
    /** The learning rate at {@code step}, counted from 0. */
    double at(long step);

    /** The same rate at every step. */
    static LearningRateSchedule constant(double rate) {
        checkRate("constant schedule", "learning rate", rate);
        return step -> rate;
    }

    /** PyTorch's StepLR: multiplies the rate by gamma every {@code period} steps. */
    static LearningRateSchedule step(double base, long period, double gamma) {
        checkRate("step schedule", "base learning rate", base);
        if (period <= 0 || !(gamma > 0)) {
            throw new IllegalArgumentException("step schedule: period must be positive and gamma > 0, got period "
                    + period + ", gamma " + gamma);
        }
        return step -> base * Math.pow(gamma, step / period);
    }

    /**
     * Linear warm-up from 0 over {@code warmup} steps, then cosine decay from base to {@code minimum}
     * at {@code total} steps (held after).
     */
    static LearningRateSchedule warmupCosine(double base, long warmup, long total, double minimum) {
        if (warmup < 0 || total <= warmup) {
            throw new IllegalArgumentException("cosine schedule: need 0 ≤ warmup < total, got warmup " + warmup
                    + ", total " + total);
        }
        checkRate("cosine schedule", "base learning rate", base);
        if (!(minimum >= 0 && minimum <= base)) {
            throw new IllegalArgumentException("cosine schedule: minimum learning rate must be in [0, base = " + base
                    + "], got " + minimum);
        }
        return step -> {
            if (step < warmup) {
                return base * (step + 1) / warmup;
            }
            double progress = Math.min(1.0, (double) (step - warmup) / (total - warmup));
            return minimum + (base - minimum) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }

    private static void checkRate(String schedule, String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(schedule + ": " + name + " must be a finite number ≥ 0, got " + value);
        }
    }
}
