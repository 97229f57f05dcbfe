package dev.retort.backend;

/**
 * Marks an exception meaning that the device faulted and can run nothing more in this process (a CUDA context
 * after an illegal address, for one): every later operation would fail the same way, so callers that run many
 * independent cases (the parity sweep) stop at the first and say so, rather than report each later case as a
 * failure of its own.
 */
public interface DeviceLost {}
