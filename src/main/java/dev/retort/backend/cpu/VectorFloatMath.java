package dev.retort.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link FloatMath} on the JDK Vector API: a register-blocked GEMM micro-kernel over packed panels of A and B.
 *
 * <p>Only {@link FloatMathProvider} names this class, by reflection, and only when {@code jdk.incubator.vector}
 * is in the boot layer; nothing else may refer to it directly.
 *
 * <p>The layout follows Goto and van de Geijn's GEMM: B is packed once into strips {@value #STRIP_VECTORS}
 * vectors wide covering all of k; A is packed per block of rows and depth into panels PANEL_ROWS rows tall
 * (8 with 512-bit vectors, 4 with narrower ones); the micro-kernel multiplies one A panel by one B strip over a
 * depth block, keeping the whole PANEL_ROWS × {@value #STRIP_VECTORS}-vector tile of C in registers. Padding rows and columns are
 * packed as zeros so the kernel never branches on edges; partial tiles go through a small buffer on the way
 * out to C.
 */
public final class VectorFloatMath implements FloatMath, ArrayAdder {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    // The tile of C the kernel keeps in registers is PANEL_ROWS × 2 vectors. With 512-bit vectors (AVX-512, 32
    // registers) 8 × 2 is 16 accumulators and room for the B vectors and the broadcast; it measured fastest among
    // 6×2, 8×2, 12×2, 4×3, 7×3, 8×3, 4×4 and 6×4 on Zen 4, and 8 rows fits the 32- and 64-channel convolutions
    // exactly. Narrower vectors get 4 × 2: with AVX2's 16 registers C2 spilled the accumulators of 6 × 2 (12 of
    // them) inside the loop, and 4 × 2 ran 1.3× faster single-threaded under -XX:UseAVX=2 on Zen 4 and as
    // fast as 6 × 2 with 32 registers at -XX:MaxVectorSize=32 (docs/design.md, "The GEMM at each vector width").
    static final int PANEL_ROWS = LANES >= 16 ? 8 : 4;
    static final int STRIP_VECTORS = 2;
    private static final int STRIP_COLUMNS = STRIP_VECTORS * LANES;

    // One depth block of a B strip (at most MAX_DEPTH_BLOCK × STRIP_COLUMNS floats, 40 KiB with 512-bit vectors)
    // is read once per A panel, from L1 or close to it; 128 and 192 measured within noise of 320 on Zen 4.
    private static final int MAX_DEPTH_BLOCK = 320;
    // The packed A block (ROW_BLOCK_PANELS panels of PANEL_ROWS × MAX_DEPTH_BLOCK floats) stays in L2 while B strips
    // stream through L1: a quarter of this core's L2, 25 panels on Zen 4 (1 MiB; the fixed 24 it replaces were set
    // there) and 12 where L2 is 512 KiB (Zen 3).
    private static final int ROW_BLOCK_PANELS = (int) Math.max(4,
            CpuCaches.L2_BYTES / 4 / ((long) PANEL_ROWS * MAX_DEPTH_BLOCK * Float.BYTES));

    // Products below about 4M multiply-adds (~60 µs on one core) run on the calling thread, and every parallel chunk
    // gets at least about 1M. These were set when waking a fork-join pool cost 15-80 µs; Parallel's team starts a
    // loop in about 1 µs, and smaller thresholds have not been measured since.
    static final long PARALLEL_WORK = 1L << 22;
    static final long CHUNK_WORK = 1L << 20;

    // Where row p of a packed depth block starts, relative to the block: the kernel reads B through row starts, so
    // that gemmRows' rows can be read where they are.
    private static final int[] PACKED_ROW_STARTS = new int[MAX_DEPTH_BLOCK];

    static {
        for (int p = 0; p < MAX_DEPTH_BLOCK; p++) {
            PACKED_ROW_STARTS[p] = p * STRIP_COLUMNS;
        }
    }

    // gemm runs A·Bᵀ as dotProducts for at most this many rows of A and at least this depth. Against the GEMM, with
    // its gathered packing of Bᵀ, on the 2-core Zen 4 VM: 128 × 1200 × 1200 172 against 163 GFLOP/s,
    // 128 × 256 × 3136 161 against 112, 128 × 10 × 1200 58 against 20, 128 × 1200 × 784 even; 256 rows or more
    // and depths of 100 or less favour the GEMM (256 × 1200 × 784: 149 against 177; 32 × 1000 × 100: 24 against 62).
    private static final int DOT_MAX_ROWS = 128;
    private static final int DOT_MIN_DEPTH = 512;

    private final ScratchBuffers packedBs = new ScratchBuffers();
    private final ScratchBuffers packedAs = new ScratchBuffers();
    private final ScratchBuffers tiles = new ScratchBuffers();

    /** The width of this CPU's preferred vectors; the provider calls it before choosing this class. */
    static int preferredVectorBits() {
        return SPECIES.vectorBitSize();
    }

    @Override
    public String name() {
        return "vector (" + SPECIES.vectorBitSize() + "-bit, " + LANES + " floats)";
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        GemmSupport.checkShape(transA, transB, m, n, k, lda, ldb, ldc);
        if (!transA && transB && alpha == 1f && m <= DOT_MAX_ROWS && k >= DOT_MIN_DEPTH) {
            // A·Bᵀ with both operands' rows along k: as inner products nothing is packed, where the GEMM would
            // gather Bᵀ a column at a time for only a few rows of A (a Linear layer's forward pass on a batch).
            int[] bRows = new int[n];
            for (int j = 0; j < n; j++) {
                bRows[j] = bOff + j * ldb;
            }
            dotProducts(m, n, k, a, aOff, lda, b, bRows, beta, c, cOff, ldc);
            return;
        }
        multiply(transA, transB, m, n, k, alpha, a, aOff, lda, null, b, bOff, ldb, null, beta, c, cOff, ldc);
    }

    /** A packed whole: panel t holds all k depths of its PANEL_ROWS rows at {@code t · PANEL_ROWS · k}. */
    private record PackedPanels(int rows, int depth, float[] panels) implements Packed {}

    @Override
    public Packed pack(int m, int k, float[] a, int aOff, int lda) {
        GemmSupport.checkPackShape(m, k, lda);
        int panels = GemmSupport.ceilDiv(m, PANEL_ROWS);
        float[] packed = new float[Math.multiplyExact(panels * PANEL_ROWS, k)];
        packA(false, a, aOff, lda, m, 1f, 0, panels, 0, k, packed);
        return new PackedPanels(m, k, packed);
    }

    @Override
    public void gemmRows(Packed a, int n, float[] b, int[] bRows, float beta, float[] c, int cOff, int ldc) {
        if (!(a instanceof PackedPanels packed)) {
            throw new IllegalArgumentException("gemmRows: A was packed by another FloatMath, " + a);
        }
        int m = packed.rows();
        int k = packed.depth();
        GemmSupport.checkRowsShape("gemmRows", m, n, k, k, bRows, k, ldc);
        multiply(false, false, m, n, k, 1f, null, 0, 0, packed.panels(), b, 0, n, bRows, beta, c, cOff, ldc);
    }

    @Override
    public void gemmRows(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows,
                         float beta, float[] c, int cOff, int ldc) {
        GemmSupport.checkRowsShape("gemmRows", m, n, k, lda, bRows, k, ldc);
        multiply(false, false, m, n, k, 1f, a, aOff, lda, null, b, 0, n, bRows, beta, c, cOff, ldc);
    }

    /**
     * {@link #gemm}, or {@link #gemmRows} when {@code bRows} is set (then B's rows start there, not at bOff); A is
     * {@code packedA} when that is set, as {@link #pack} made it, else packed here from {@code a}.
     */
    private void multiply(boolean transA, boolean transB, int m, int n, int k, float alpha,
                          float[] a, int aOff, int lda, float[] packedA, float[] b, int bOff, int ldb, int[] bRows,
                          float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            GemmSupport.scaleRows(0, m, n, beta, c, cOff, ldc);
            return;
        }
        if (beta != 0f && beta != 1f) {
            // The kernels only overwrite or add, which keeps their code small enough to compile well.
            GemmSupport.scaleRows(0, m, n, beta, c, cOff, ldc);
        }
        boolean overwrite = beta == 0f;
        int strips = GemmSupport.ceilDiv(n, STRIP_COLUMNS);
        int panels = GemmSupport.ceilDiv(m, PANEL_ROWS);
        float[] packedB = packedBs.acquire(Math.multiplyExact(strips * STRIP_COLUMNS, k));
        try {
            long work = (long) m * n * k;
            if (work < PARALLEL_WORK || Parallel.threads() == 1 || Parallel.isPoolThread()) {
                // Inside a pool task (say one image of a convolution) the other threads already have work.
                packB(transB, b, bOff, ldb, bRows, n, k, 0, strips, packedB);
                multiplyBlock(0, panels, 0, strips, transA, m, n, k, alpha, a, aOff, lda, packedA, b, bRows, packedB,
                        overwrite, c,
                        cOff, ldc);
            } else if (panels >= strips) {
                // Tall: share one packed B, then give each thread its own rows, so A is packed once in all.
                int packGrain = (int) Math.max(1, CHUNK_WORK / 16 / ((long) STRIP_COLUMNS * k));
                Parallel.forRange(0, strips, packGrain, (lo, hi) -> packB(transB, b, bOff, ldb, bRows, n, k, lo, hi, packedB));
                int panelGrain = (int) Math.max(1, CHUNK_WORK / ((long) PANEL_ROWS * n * k));
                Parallel.forRange(0, panels, panelGrain, (lo, hi) -> multiplyBlock(lo, hi, 0, strips,
                        transA, m, n, k, alpha, a, aOff, lda, packedA, b, bRows, packedB, overwrite, c, cOff, ldc));
            } else {
                // Wide: each thread packs and multiplies its own strips of B in one pass; the small A is packed
                // once per thread.
                int stripGrain = (int) Math.max(1, CHUNK_WORK / ((long) STRIP_COLUMNS * m * k));
                Parallel.forRange(0, strips, stripGrain, (lo, hi) -> {
                    packB(transB, b, bOff, ldb, bRows, n, k, lo, hi, packedB);
                    multiplyBlock(0, panels, lo, hi, transA, m, n, k, alpha, a, aOff, lda, packedA, b, bRows, packedB,
                            overwrite,
                            c, cOff, ldc);
                });
            }
        } finally {
            packedBs.release(packedB);
        }
    }

    @Override
    public void addInto(float[] target, int targetOffset, float[] source, int sourceOffset, int length) {
        int index = 0;
        for (; index <= length - LANES; index += LANES) {
            FloatVector.fromArray(SPECIES, target, targetOffset + index)
                    .add(FloatVector.fromArray(SPECIES, source, sourceOffset + index))
                    .intoArray(target, targetOffset + index);
        }
        for (; index < length; index++) {
            target[targetOffset + index] += source[sourceOffset + index];
        }
    }

    /**
     * C for A panels {@code [panelLo, panelHi)} and B strips {@code [stripLo, stripHi)}, B already packed; C is
     * overwritten when {@code overwrite} is set, else added to.
     */
    private void multiplyBlock(int panelLo, int panelHi, int stripLo, int stripHi,
                               boolean transA, int m, int n, int k, float alpha,
                               float[] a, int aOff, int lda, float[] prepackedA, float[] b, int[] bRows,
                               float[] packedB, boolean overwrite, float[] c, int cOff, int ldc) {
        // Depth blocks of equal size: a short last block (32 deep for a 3×3 convolution over 32 channels, k = 288,
        // when blocks were 256 deep) costs a whole extra load and store of C for little work, and those stores were
        // what ran at half speed in about one JVM run of three.
        int depthBlock = GemmSupport.ceilDiv(k, GemmSupport.ceilDiv(k, MAX_DEPTH_BLOCK));
        boolean prepacked = prepackedA != null;
        float[] packedA = prepacked ? prepackedA : packedAs.acquire(ROW_BLOCK_PANELS * PANEL_ROWS * depthBlock);
        float[] tile = tiles.acquire(PANEL_ROWS * STRIP_COLUMNS);
        try {
            for (int depthStart = 0; depthStart < k; depthStart += depthBlock) {
                int depth = Math.min(depthBlock, k - depthStart);
                // Later depth blocks add to what the first one wrote.
                boolean accumulate = depthStart > 0 || !overwrite;
                for (int blockLo = panelLo; blockLo < panelHi; blockLo += ROW_BLOCK_PANELS) {
                    int blockHi = Math.min(blockLo + ROW_BLOCK_PANELS, panelHi);
                    if (!prepacked) {
                        packA(transA, a, aOff, lda, m, alpha, blockLo, blockHi, depthStart, depth, packedA);
                    }
                    for (int strip = stripLo; strip < stripHi; strip++) {
                        int column = strip * STRIP_COLUMNS;
                        int columns = Math.min(STRIP_COLUMNS, n - column);
                        // The kernel reads B's rows where they are for gemmRows' whole strips, else the packed strip.
                        boolean inPlace = isReadInPlace(bRows, columns);
                        float[] source = inPlace ? b : packedB;
                        int[] rowStarts = inPlace ? bRows : PACKED_ROW_STARTS;
                        int rowIndex = inPlace ? depthStart : 0;
                        int from = inPlace ? column : (strip * k + depthStart) * STRIP_COLUMNS;
                        for (int panel = blockLo; panel < blockHi; panel++) {
                            int row = panel * PANEL_ROWS;
                            int rows = Math.min(PANEL_ROWS, m - row);
                            // A prepacked panel holds all of k; one packed here only this depth block.
                            int aIndex = prepacked ? (panel * k + depthStart) * PANEL_ROWS
                                    : (panel - blockLo) * PANEL_ROWS * depth;
                            int cIndex = cOff + row * ldc + column;
                            if (rows == PANEL_ROWS && columns == STRIP_COLUMNS) {
                                kernel(depth, packedA, aIndex, source, rowStarts, rowIndex, from, c, cIndex, ldc,
                                        accumulate);
                            } else {
                                // An edge tile: compute it whole into a buffer, then keep the part inside C.
                                kernel(depth, packedA, aIndex, source, rowStarts, rowIndex, from, tile, 0,
                                        STRIP_COLUMNS, false);
                                mergeEdgeTile(tile, rows, columns, c, cIndex, ldc, accumulate);
                            }
                        }
                    }
                }
            }
        } finally {
            tiles.release(tile);
            if (!prepacked) {
                packedAs.release(packedA);
            }
        }
    }

    /**
     * Packs op(B) strips {@code [stripLo, stripHi)} over all of k: strip s holds k rows of STRIP_COLUMNS
     * floats at {@code s * k * STRIP_COLUMNS}, columns beyond n as zeros.
     */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int[] bRows, int n, int k,
                              int stripLo, int stripHi, float[] packedB) {
        // One small method per case: sharing one method let the profile of one case deoptimise the other, and
        // left the gather compiled badly in about one JVM run of three.
        for (int strip = stripLo; strip < stripHi; strip++) {
            int column = strip * STRIP_COLUMNS;
            int columns = Math.min(STRIP_COLUMNS, n - column);
            int target = strip * k * STRIP_COLUMNS;
            if (isReadInPlace(bRows, columns)) {
                continue;
            } else if (bRows != null) {
                packListedRows(b, bRows, column, k, columns, packedB, target);
            } else if (!transB) {
                packRows(b, bOff + column, ldb, k, columns, packedB, target);
            } else if (columns == STRIP_COLUMNS) {
                packColumnsGathered(b, bOff + column * ldb, ldb, k, packedB, target);
            } else {
                packColumns(b, bOff + column * ldb, ldb, k, columns, packedB, target);
            }
        }
    }

    /** One strip of a row-major k × n B: each packed row is a slice of a stored row. */
    private static void packRows(float[] b, int source, int ldb, int k, int columns, float[] packedB, int target) {
        for (int p = 0; p < k; p++) {
            int to = target + p * STRIP_COLUMNS;
            System.arraycopy(b, source + p * ldb, packedB, to, columns);
            if (columns < STRIP_COLUMNS) {
                java.util.Arrays.fill(packedB, to + columns, to + STRIP_COLUMNS, 0f);
            }
        }
    }

    /**
     * Whether the kernel reads this strip of B where it is: {@link #gemmRows}' B rows are already contiguous across a
     * whole strip, so packing them only copied them (a convolution's rows overlap, which keeps them in cache). The
     * last, partial strip is still packed, so that the kernel never reads past a row.
     */
    private static boolean isReadInPlace(int[] bRows, int columns) {
        return bRows != null && columns == STRIP_COLUMNS;
    }

    /** The last, partial strip of a B whose row p starts at {@code bRows[p]}, as {@link #gemmRows} takes it. */
    private static void packListedRows(float[] b, int[] bRows, int column, int k, int columns, float[] packedB,
                                       int target) {
        for (int p = 0; p < k; p++) {
            int to = target + p * STRIP_COLUMNS;
            System.arraycopy(b, bRows[p] + column, packedB, to, columns);
            java.util.Arrays.fill(packedB, to + columns, to + STRIP_COLUMNS, 0f);
        }
    }

    /** One full strip of a stored n × k B (used transposed): a packed row is a column, gathered a vector at once. */
    private static void packColumnsGathered(float[] b, int source, int ldb, int k, float[] packedB, int target) {
        int[] rowStarts = new int[LANES];
        for (int lane = 0; lane < LANES; lane++) {
            rowStarts[lane] = lane * ldb;
        }
        for (int vector = 0; vector < STRIP_VECTORS; vector++) {
            int from = source + vector * LANES * ldb;
            int to = target + vector * LANES;
            for (int p = 0; p < k; p++) {
                FloatVector.fromArray(SPECIES, b, from + p, rowStarts, 0).intoArray(packedB, to + p * STRIP_COLUMNS);
            }
        }
    }

    /** The last, partial strip of a stored n × k B, element by element with zeros beyond n. */
    private static void packColumns(float[] b, int source, int ldb, int k, int columns, float[] packedB, int target) {
        java.util.Arrays.fill(packedB, target, target + k * STRIP_COLUMNS, 0f);
        for (int j = 0; j < columns; j++) {
            int from = source + j * ldb;
            for (int p = 0; p < k; p++) {
                packedB[target + p * STRIP_COLUMNS + j] = b[from + p];
            }
        }
    }

    /**
     * Packs op(A) rows of panels {@code [panelLo, panelHi)} and depths {@code [depthStart, depthStart + depth)}:
     * panel t holds depth groups of PANEL_ROWS floats at {@code (t - panelLo) * PANEL_ROWS * depth}, rows beyond m
     * as zeros. Scaling by alpha here costs nothing extra and leaves the kernels one job.
     */
    private static void packA(boolean transA, float[] a, int aOff, int lda, int m, float alpha,
                              int panelLo, int panelHi, int depthStart, int depth, float[] packedA) {
        for (int panel = panelLo; panel < panelHi; panel++) {
            int target = (panel - panelLo) * PANEL_ROWS * depth;
            int row = panel * PANEL_ROWS;
            int rows = Math.min(PANEL_ROWS, m - row);
            if (rows < PANEL_ROWS) {
                java.util.Arrays.fill(packedA, target, target + PANEL_ROWS * depth, 0f);
            }
            if (transA) {
                // Stored A is k × m: the panel's rows for one depth are adjacent.
                for (int p = 0; p < depth; p++) {
                    int source = aOff + (depthStart + p) * lda + row;
                    int to = target + p * PANEL_ROWS;
                    for (int r = 0; r < rows; r++) {
                        packedA[to + r] = alpha * a[source + r];
                    }
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    int source = aOff + (row + r) * lda + depthStart;
                    for (int p = 0; p < depth; p++) {
                        packedA[target + p * PANEL_ROWS + r] = alpha * a[source + p];
                    }
                }
            }
        }
    }

    /**
     * One full PANEL_ROWS × STRIP_COLUMNS tile of C, row stride {@code ldc}: the packed A panel times a B strip over
     * {@code depth}, added to C or written over it. B is a packed strip (rows {@link #STRIP_COLUMNS} apart from
     * {@code column}) when {@code rowStarts} is {@link #PACKED_ROW_STARTS}, else rows that start where
     * {@code rowStarts} says.
     */
    private static void kernel(int depth, float[] packedA, int aIndex, float[] b, int[] rowStarts, int rowIndex,
                               int column, float[] c, int cIndex, int ldc, boolean accumulate) {
        // A packed strip gets its own kernels: B's index is then a plain function of the loop counter, so C2 hoists
        // its bounds checks out of the loop, where a row looked up in rowStarts is checked on every step (at 256 bits
        // those checks cost a fifth of the GEMM's speed). PANEL_ROWS is a constant, so C2 keeps only one branch.
        if (rowStarts == PACKED_ROW_STARTS) {
            if (PANEL_ROWS == 8) {
                kernel8x2Packed(depth, packedA, aIndex, b, column, c, cIndex, ldc, accumulate);
            } else {
                kernel4x2Packed(depth, packedA, aIndex, b, column, c, cIndex, ldc, accumulate);
            }
        } else if (PANEL_ROWS == 8) {
            kernel8x2Rows(depth, packedA, aIndex, b, rowStarts, rowIndex, column, c, cIndex, ldc, accumulate);
        } else {
            kernel4x2Rows(depth, packedA, aIndex, b, rowStarts, rowIndex, column, c, cIndex, ldc, accumulate);
        }
    }

    // The kernels below are written out by hand, one line per accumulator, because C2 keeps vectors in registers
    // only for straight-line code it can see whole; loops over arrays of vectors would spill. They are kept free
    // of alpha, beta and edge handling, which once made them too big to compile well, and they are not unrolled
    // along k: with 16 vector registers (AVX2) C2 then loads ahead and spills accumulators, which halved the speed.

    /** The 8 × 2-vector tile over B rows read where they are, for 512-bit vectors. */
    private static void kernel8x2Rows(int depth, float[] packedA, int aIndex, float[] b, int[] rowStarts,
                                   int rowIndex, int column,
                                   float[] c, int cIndex, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES);
        FloatVector c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES);
        FloatVector c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES);
        FloatVector c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES);
        FloatVector c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES);
        FloatVector c51 = FloatVector.zero(SPECIES);
        FloatVector c60 = FloatVector.zero(SPECIES);
        FloatVector c61 = FloatVector.zero(SPECIES);
        FloatVector c70 = FloatVector.zero(SPECIES);
        FloatVector c71 = FloatVector.zero(SPECIES);
        for (int p = 0; p < depth; p++) {
            int from = rowStarts[rowIndex + p] + column;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, from);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, from + LANES);
            FloatVector a0 = FloatVector.broadcast(SPECIES, packedA[aIndex]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, packedA[aIndex + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, packedA[aIndex + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, packedA[aIndex + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, packedA[aIndex + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, packedA[aIndex + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(SPECIES, packedA[aIndex + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(SPECIES, packedA[aIndex + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            aIndex += 8;
        }
        if (accumulate) {
            c00.add(FloatVector.fromArray(SPECIES, c, cIndex)).intoArray(c, cIndex);
            c01.add(FloatVector.fromArray(SPECIES, c, cIndex + LANES)).intoArray(c, cIndex + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc)).intoArray(c, cIndex + ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc + LANES)).intoArray(c, cIndex + ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc)).intoArray(c, cIndex + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc + LANES)).intoArray(c, cIndex + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc)).intoArray(c, cIndex + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc + LANES)).intoArray(c, cIndex + 3 * ldc + LANES);
            c40.add(FloatVector.fromArray(SPECIES, c, cIndex + 4 * ldc)).intoArray(c, cIndex + 4 * ldc);
            c41.add(FloatVector.fromArray(SPECIES, c, cIndex + 4 * ldc + LANES)).intoArray(c, cIndex + 4 * ldc + LANES);
            c50.add(FloatVector.fromArray(SPECIES, c, cIndex + 5 * ldc)).intoArray(c, cIndex + 5 * ldc);
            c51.add(FloatVector.fromArray(SPECIES, c, cIndex + 5 * ldc + LANES)).intoArray(c, cIndex + 5 * ldc + LANES);
            c60.add(FloatVector.fromArray(SPECIES, c, cIndex + 6 * ldc)).intoArray(c, cIndex + 6 * ldc);
            c61.add(FloatVector.fromArray(SPECIES, c, cIndex + 6 * ldc + LANES)).intoArray(c, cIndex + 6 * ldc + LANES);
            c70.add(FloatVector.fromArray(SPECIES, c, cIndex + 7 * ldc)).intoArray(c, cIndex + 7 * ldc);
            c71.add(FloatVector.fromArray(SPECIES, c, cIndex + 7 * ldc + LANES)).intoArray(c, cIndex + 7 * ldc + LANES);
        } else {
            c00.intoArray(c, cIndex);
            c01.intoArray(c, cIndex + LANES);
            c10.intoArray(c, cIndex + ldc);
            c11.intoArray(c, cIndex + ldc + LANES);
            c20.intoArray(c, cIndex + 2 * ldc);
            c21.intoArray(c, cIndex + 2 * ldc + LANES);
            c30.intoArray(c, cIndex + 3 * ldc);
            c31.intoArray(c, cIndex + 3 * ldc + LANES);
            c40.intoArray(c, cIndex + 4 * ldc);
            c41.intoArray(c, cIndex + 4 * ldc + LANES);
            c50.intoArray(c, cIndex + 5 * ldc);
            c51.intoArray(c, cIndex + 5 * ldc + LANES);
            c60.intoArray(c, cIndex + 6 * ldc);
            c61.intoArray(c, cIndex + 6 * ldc + LANES);
            c70.intoArray(c, cIndex + 7 * ldc);
            c71.intoArray(c, cIndex + 7 * ldc + LANES);
        }
    }

    /** The 8 × 2-vector tile over a packed B strip, for 512-bit vectors. */
    private static void kernel8x2Packed(int depth, float[] packedA, int aIndex, float[] b, int bIndex, float[] c,
                                  int cIndex, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES);
        FloatVector c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES);
        FloatVector c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES);
        FloatVector c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES);
        FloatVector c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES);
        FloatVector c51 = FloatVector.zero(SPECIES);
        FloatVector c60 = FloatVector.zero(SPECIES);
        FloatVector c61 = FloatVector.zero(SPECIES);
        FloatVector c70 = FloatVector.zero(SPECIES);
        FloatVector c71 = FloatVector.zero(SPECIES);
        for (int p = 0; p < depth; p++) {
            int from = bIndex + p * STRIP_COLUMNS;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, from);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, from + LANES);
            int a = aIndex + p * 8;
            FloatVector a0 = FloatVector.broadcast(SPECIES, packedA[a]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, packedA[a + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, packedA[a + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, packedA[a + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, packedA[a + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, packedA[a + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(SPECIES, packedA[a + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(SPECIES, packedA[a + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
        }
        if (accumulate) {
            c00.add(FloatVector.fromArray(SPECIES, c, cIndex)).intoArray(c, cIndex);
            c01.add(FloatVector.fromArray(SPECIES, c, cIndex + LANES)).intoArray(c, cIndex + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc)).intoArray(c, cIndex + ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc + LANES)).intoArray(c, cIndex + ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc)).intoArray(c, cIndex + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc + LANES)).intoArray(c, cIndex + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc)).intoArray(c, cIndex + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc + LANES)).intoArray(c, cIndex + 3 * ldc + LANES);
            c40.add(FloatVector.fromArray(SPECIES, c, cIndex + 4 * ldc)).intoArray(c, cIndex + 4 * ldc);
            c41.add(FloatVector.fromArray(SPECIES, c, cIndex + 4 * ldc + LANES)).intoArray(c, cIndex + 4 * ldc + LANES);
            c50.add(FloatVector.fromArray(SPECIES, c, cIndex + 5 * ldc)).intoArray(c, cIndex + 5 * ldc);
            c51.add(FloatVector.fromArray(SPECIES, c, cIndex + 5 * ldc + LANES)).intoArray(c, cIndex + 5 * ldc + LANES);
            c60.add(FloatVector.fromArray(SPECIES, c, cIndex + 6 * ldc)).intoArray(c, cIndex + 6 * ldc);
            c61.add(FloatVector.fromArray(SPECIES, c, cIndex + 6 * ldc + LANES)).intoArray(c, cIndex + 6 * ldc + LANES);
            c70.add(FloatVector.fromArray(SPECIES, c, cIndex + 7 * ldc)).intoArray(c, cIndex + 7 * ldc);
            c71.add(FloatVector.fromArray(SPECIES, c, cIndex + 7 * ldc + LANES)).intoArray(c, cIndex + 7 * ldc + LANES);
        } else {
            c00.intoArray(c, cIndex);
            c01.intoArray(c, cIndex + LANES);
            c10.intoArray(c, cIndex + ldc);
            c11.intoArray(c, cIndex + ldc + LANES);
            c20.intoArray(c, cIndex + 2 * ldc);
            c21.intoArray(c, cIndex + 2 * ldc + LANES);
            c30.intoArray(c, cIndex + 3 * ldc);
            c31.intoArray(c, cIndex + 3 * ldc + LANES);
            c40.intoArray(c, cIndex + 4 * ldc);
            c41.intoArray(c, cIndex + 4 * ldc + LANES);
            c50.intoArray(c, cIndex + 5 * ldc);
            c51.intoArray(c, cIndex + 5 * ldc + LANES);
            c60.intoArray(c, cIndex + 6 * ldc);
            c61.intoArray(c, cIndex + 6 * ldc + LANES);
            c70.intoArray(c, cIndex + 7 * ldc);
            c71.intoArray(c, cIndex + 7 * ldc + LANES);
        }
    }

    /** The 4 × 2-vector tile over a packed B strip, for narrower vectors. */
    private static void kernel4x2Packed(int depth, float[] packedA, int aIndex, float[] b, int bIndex, float[] c,
                                  int cIndex, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES);
        FloatVector c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES);
        FloatVector c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES);
        FloatVector c31 = FloatVector.zero(SPECIES);
        for (int p = 0; p < depth; p++) {
            int from = bIndex + p * STRIP_COLUMNS;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, from);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, from + LANES);
            int a = aIndex + p * 4;
            FloatVector a0 = FloatVector.broadcast(SPECIES, packedA[a]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, packedA[a + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, packedA[a + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, packedA[a + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        if (accumulate) {
            c00.add(FloatVector.fromArray(SPECIES, c, cIndex)).intoArray(c, cIndex);
            c01.add(FloatVector.fromArray(SPECIES, c, cIndex + LANES)).intoArray(c, cIndex + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc)).intoArray(c, cIndex + ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc + LANES)).intoArray(c, cIndex + ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc)).intoArray(c, cIndex + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc + LANES)).intoArray(c, cIndex + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc)).intoArray(c, cIndex + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc + LANES)).intoArray(c, cIndex + 3 * ldc + LANES);
        } else {
            c00.intoArray(c, cIndex);
            c01.intoArray(c, cIndex + LANES);
            c10.intoArray(c, cIndex + ldc);
            c11.intoArray(c, cIndex + ldc + LANES);
            c20.intoArray(c, cIndex + 2 * ldc);
            c21.intoArray(c, cIndex + 2 * ldc + LANES);
            c30.intoArray(c, cIndex + 3 * ldc);
            c31.intoArray(c, cIndex + 3 * ldc + LANES);
        }
    }

    /** The 4 × 2-vector tile over B rows read where they are, for narrower vectors. */
    private static void kernel4x2Rows(int depth, float[] packedA, int aIndex, float[] b, int[] rowStarts, int rowIndex,
                                  int column, float[] c, int cIndex, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES);
        FloatVector c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES);
        FloatVector c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES);
        FloatVector c31 = FloatVector.zero(SPECIES);
        for (int p = 0; p < depth; p++) {
            int from = rowStarts[rowIndex + p] + column;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, from);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, from + LANES);
            int a = aIndex + p * 4;
            FloatVector a0 = FloatVector.broadcast(SPECIES, packedA[a]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, packedA[a + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, packedA[a + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, packedA[a + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        if (accumulate) {
            c00.add(FloatVector.fromArray(SPECIES, c, cIndex)).intoArray(c, cIndex);
            c01.add(FloatVector.fromArray(SPECIES, c, cIndex + LANES)).intoArray(c, cIndex + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc)).intoArray(c, cIndex + ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cIndex + ldc + LANES)).intoArray(c, cIndex + ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc)).intoArray(c, cIndex + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cIndex + 2 * ldc + LANES)).intoArray(c, cIndex + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc)).intoArray(c, cIndex + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cIndex + 3 * ldc + LANES)).intoArray(c, cIndex + 3 * ldc + LANES);
        } else {
            c00.intoArray(c, cIndex);
            c01.intoArray(c, cIndex + LANES);
            c10.intoArray(c, cIndex + ldc);
            c11.intoArray(c, cIndex + ldc + LANES);
            c20.intoArray(c, cIndex + 2 * ldc);
            c21.intoArray(c, cIndex + 2 * ldc + LANES);
            c30.intoArray(c, cIndex + 3 * ldc);
            c31.intoArray(c, cIndex + 3 * ldc + LANES);
        }
    }

    /** Writes or adds the {@code rows × columns} corner of an edge tile into C. */
    private static void mergeEdgeTile(float[] tile, int rows, int columns, float[] c, int cIndex, int ldc,
                                      boolean accumulate) {
        for (int r = 0; r < rows; r++) {
            int to = cIndex + r * ldc;
            int from = r * STRIP_COLUMNS;
            if (accumulate) {
                for (int j = 0; j < columns; j++) {
                    c[to + j] += tile[from + j];
                }
            } else {
                System.arraycopy(tile, from, c, to, columns);
            }
        }
    }

    @Override
    public void dotProducts(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows,
                            float beta, float[] c, int cOff, int ldc) {
        GemmSupport.checkRowsShape("dotProducts", m, n, k, lda, bRows, n, ldc);
        VectorDotProducts.multiply(m, n, k, a, aOff, lda, b, bRows, beta, c, cOff, ldc);
    }

    @Override
    public void reluBackward(float[] grad, int gradOffset, float[] output, int outputOffset, float[] result,
                             int resultOffset, int n) {
        VectorElementWise.reluBackward(grad, gradOffset, output, outputOffset, result, resultOffset, n);
    }

    @Override
    public void relu(float[] x, int xOffset, float[] out, int outOffset, int n) {
        VectorElementWise.relu(x, xOffset, out, outOffset, n);
    }

    @Override
    public void scaleShift(float[] x, int xOffset, float scale, float shift, float[] out, int outOffset, int n) {
        VectorElementWise.scaleShift(x, xOffset, scale, shift, out, outOffset, n);
    }

    @Override
    public void batchNormGradient(float[] g, int gOffset, float[] x, int xOffset, int n, float scale, float meanG,
                                  float mean, float k, float[] out, int outOffset) {
        VectorElementWise.batchNormGradient(g, gOffset, x, xOffset, n, scale, meanG, mean, k, out, outOffset);
    }

    @Override
    public float sum(float[] x, int from, int n) {
        return VectorElementWise.sum(x, from, n);
    }

    @Override
    public float squaredDeviations(float[] x, int from, int n, float mean) {
        return VectorElementWise.squaredDeviations(x, from, n, mean);
    }

    @Override
    public float centeredProducts(float[] g, int gOffset, float[] x, int xOffset, int n, float mean) {
        return VectorElementWise.centeredProducts(g, gOffset, x, xOffset, n, mean);
    }
}
