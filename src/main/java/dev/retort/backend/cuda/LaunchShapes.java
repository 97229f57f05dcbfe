package dev.retort.backend.cuda;

import java.util.List;

/**
 * The launch shapes the plan classes share: the grid-stride elementwise launch, the block of a block-per-row
 * kernel, the finish block of the reductions, and the kernels' largest rank.
 */
final class LaunchShapes {
    private LaunchShapes() {}

    /** Threads per block of the elementwise (grid-stride) kernels. */
    static final int ELEMENT_BLOCK = 256;
    /** At most this many blocks for a grid-stride loop: enough to fill any current GPU several times over. */
    static final int MAX_ELEMENT_GRID = 1 << 16;
    /** Threads of the one block that finishes a reduction or a loss. */
    static final int FINISH_BLOCK = 1024;
    /** Largest rank of a broadcast or sumTo descriptor (RETORT_MAX_RANK in kernels/common.cuh). */
    static final int MAX_RANK = 8;

    static int elementGrid(long n) {
        return (int) Math.min(MAX_ELEMENT_GRID, (n + ELEMENT_BLOCK - 1) / ELEMENT_BLOCK);
    }

    /** Threads of a block-per-row kernel: about four elements each, 32 to 1024, a power of two. */
    static int rowBlock(int cols) {
        int want = Math.max(1, (cols + 3) / 4);
        int threads = 32;
        while (threads < want && threads < 1024) {
            threads <<= 1;
        }
        return threads;
    }

    static List<Launch> elementwise(String kernel, long n, KernelArgs args) {
        return n == 0 ? List.of() : List.of(new Launch(kernel, elementGrid(n), ELEMENT_BLOCK, 1, args));
    }
}
