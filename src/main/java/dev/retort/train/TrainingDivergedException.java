package dev.retort.train;

/** A loss term became NaN or infinite: the run stopped at {@link #step()}, its checkpoints untouched. */
public final class TrainingDivergedException extends IllegalStateException {
    /** Epoch, from 1, in which the term went bad. */
    private final int epoch;
    /** Step, from 1, whose loss went bad. */
    private final long step;
    /** Name of the loss term that went bad. */
    private final String term;
    /** The term's value: NaN or an infinity. */
    private final double value;

    /** A run stopped at {@code step} of {@code epoch} because loss term {@code term} became {@code value}. */
    public TrainingDivergedException(int epoch, long step, String term, double value, String message) {
        super(message);
        this.epoch = epoch;
        this.step = step;
        this.term = term;
        this.value = value;
    }

    /** The epoch (from 1) in which the term went bad. */
    public int epoch() {
        return epoch;
    }

    /** The step (from 1) whose loss went bad; its update was not applied. */
    public long step() {
        return step;
    }

    /** The name of the loss term that went bad (as in metrics.jsonl: loss, ce, kl, …). */
    public String term() {
        return term;
    }

    /** Its value: NaN or an infinity. */
    public double value() {
        return value;
    }
}
