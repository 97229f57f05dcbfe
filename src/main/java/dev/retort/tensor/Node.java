package dev.retort.tensor;

/** One recorded operation of the autograd graph: its inputs and the rule that maps its output's gradient to theirs. */
final class Node {
    /** Computes each input's gradient (null where an input needs none) from the output's gradient. */
    @FunctionalInterface
    interface BackwardRule {
        Tensor[] apply(Tensor gradOutput);
    }

    final String op;
    final Tensor[] inputs;
    final BackwardRule rule;

    Node(String op, Tensor[] inputs, BackwardRule rule) {
        this.op = op;
        this.inputs = inputs;
        this.rule = rule;
    }
}
