package dev.retort.optim;

/** The learning rate as a function of the step (or epoch) number, counted from 0. */
@FunctionalInterface
public interface LearningRateSchedule {
    double at(long step);

    static LearningRateSchedule constant(double rate) {
        return step -> rate;
    }

    /** PyTorch's StepLR: multiplies the rate by gamma every {@code period} steps. */
    static LearningRateSchedule step(double base, long period, double gamma) {
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
        return step -> {
            if (step < warmup) {
                return base * (step + 1) / warmup;
            }
            double progress = Math.min(1.0, (double) (step - warmup) / (total - warmup));
            return minimum + (base - minimum) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }
}
