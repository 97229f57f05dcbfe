package dev.retort.backend.cpu;

import dev.retort.backend.ConvGeometry;
import java.util.Arrays;

/**
 * Float32 2-D convolution forward and backward on the CPU: im2col (or nothing, for 1×1 stride-1 unpadded
 * kernels) followed by one {@link FloatMath#gemm} per image, images spread over {@link Parallel}'s threads.
 *
 * <p>All arrays hold whole tensors from index 0: input {@code [N, C, H, W]}, weight {@code [K, C, kh, kw]},
 * output {@code [N, K, OH, OW]}. In the GEMMs, an image's column matrix is {@code [C·kh·kw, OH·OW]} and the
 * weight is viewed as {@code [K, C·kh·kw]}.
 *
 * <p>Stride-1 convolutions use a "wide" column layout instead of plain im2col: the image is copied once into a
 * zero-padded plane of row length {@code Wp = W + 2·padW}, and each column-matrix row is then one contiguous slice
 * of it, its pixels spaced {@code Wp} apart per output row, so the few junk columns between output rows cost a
 * little GEMM work (e.g. 28 → 30 per row) but unfolding and folding become long copies and adds instead of
 * thousands of 28-float ones. Junk columns of gradients are zero, so folding them back adds exact zeros. The
 * forward and weight-gradient passes do not even copy: {@link FloatMath#gemmRows} and
 * {@link FloatMath#dotProducts} take the column matrix as its rows' starts in the padded plane.
 */
public final class Conv2dKernels {

    // Column matrices are large (C·kh·kw × OH·OW floats), so each thread keeps one rather than allocating per image;
    // padded planes and wide outputs likewise, each in its own pool so that their sizes do not evict one another.
    private static final ScratchBuffers COLUMNS = new ScratchBuffers();
    private static final ScratchBuffers PADDED = new ScratchBuffers();
    private static final ScratchBuffers WIDE = new ScratchBuffers();

    // Weight gradients are summed over this many fixed groups of images, then the groups are added in order, so
    // the result does not depend on which thread finished first (nor on the thread count, up to this many).
    private static final int MINIMUM_WEIGHT_GROUPS = 8;

    // The weight gradient's inner products run over a depth rounded up to this many floats, a whole number of
    // vectors up to 512 bits, so the vector kernel needs no scalar tail.
    private static final int DOT_DEPTH_ALIGN = 16;

    private Conv2dKernels() {}

    /** {@code output = conv(input, weight) + bias}; output is overwritten, bias may be null. */
    public static void forward(FloatMath math, ConvGeometry g, float[] input, float[] weight, float[] bias,
                               float[] output) {
        int patch = patchSize(g);
        int pixels = g.outHeight() * g.outWidth();
        int imageSize = g.inChannels() * g.height() * g.width();
        int outChannels = g.outChannels();
        boolean pointwise = isPointwise(g);
        boolean wide = !pointwise && isStrideOne(g);
        // The wide column matrix is never built: the GEMM reads its rows straight out of the padded planes. A bias is
        // one more depth of that product, a column of biases beside the weights times a row of ones after the planes,
        // so the GEMM adds it last (as a separate pass over the output used to) and narrowing is a plain copy.
        int depth = wide && bias != null ? patch + 1 : patch;
        int[] wideRows = wide ? Arrays.copyOf(widePatchRows(g, paddedPlane(g), paddedWidth(g)), depth) : null;
        if (depth > patch) {
            wideRows[patch] = paddedSize(g);
        }
        // Every image is multiplied by the same weights: pack them once.
        FloatMath.Packed packedWeight = wide ? math.pack(outChannels, depth, weightWithBias(weight, bias, outChannels,
                patch, depth), 0, depth) : null;
        Parallel.forRange(0, g.batch(), 1, (lo, hi) -> {
            float[] columns = pointwise || wide ? null : COLUMNS.acquire(patch * pixels);
            int length = wideLength(g);
            float[] padded = wide ? PADDED.acquire(paddedSize(g) + (depth > patch ? length : 0)) : null;
            float[] wideOutput = wide ? WIDE.acquire(outChannels * length) : null;
            if (wide && depth > patch) {
                Arrays.fill(padded, paddedSize(g), paddedSize(g) + length, 1f);
            }
            try {
                for (int image = lo; image < hi; image++) {
                    int outOffset = image * outChannels * pixels;
                    if (wide) {
                        padImage(g, input, image * imageSize, padded);
                        math.gemmRows(packedWeight, length, padded, wideRows, 0f, wideOutput, 0, length);
                        narrow(g, wideOutput, output, outOffset);
                        continue;
                    }
                    float beta = 0f;
                    if (bias != null) {
                        // Start from the bias and let the GEMM add onto it, saving a pass over the output.
                        for (int channel = 0; channel < outChannels; channel++) {
                            int row = outOffset + channel * pixels;
                            Arrays.fill(output, row, row + pixels, bias[channel]);
                        }
                        beta = 1f;
                    }
                    if (pointwise) {
                        math.gemm(false, false, outChannels, pixels, patch, 1f, weight, 0, patch,
                                input, image * imageSize, pixels, beta, output, outOffset, pixels);
                    } else {
                        imageToColumns(g, input, image * imageSize, columns);
                        math.gemm(false, false, outChannels, pixels, patch, 1f, weight, 0, patch,
                                columns, 0, pixels, beta, output, outOffset, pixels);
                    }
                }
            } finally {
                release(COLUMNS, columns);
                release(PADDED, padded);
                release(WIDE, wideOutput);
            }
        });
    }

    /** {@code gradInput = d(loss)/d(input)} from {@code gradOutput}; gradInput is overwritten. */
    public static void backwardInput(FloatMath math, ConvGeometry g, float[] gradOutput, float[] weight,
                                     float[] gradInput) {
        if (!isPointwise(g) && isStrideOne(g) && g.padH() < g.kernelH() && g.padW() < g.kernelW()) {
            // A stride-1 input gradient is itself a stride-1 convolution: of the output gradient, padded by
            // kernel - 1 - pad, with the weights flipped in space and their channel axes swapped. That runs the
            // forward pass's GEMM on patches read from the padded gradient and needs no col2im fold.
            forward(math, transposed(g), gradOutput, flippedTransposedWeight(g, weight), null, gradInput);
            return;
        }
        int patch = patchSize(g);
        int pixels = g.outHeight() * g.outWidth();
        int imageSize = g.inChannels() * g.height() * g.width();
        int outChannels = g.outChannels();
        boolean pointwise = isPointwise(g);
        boolean wide = !pointwise && isStrideOne(g);
        Parallel.forRange(0, g.batch(), 1, (lo, hi) -> {
            float[] columns = pointwise ? null : COLUMNS.acquire(patch * (wide ? wideLength(g) : pixels));
            float[] padded = wide ? PADDED.acquire(paddedSize(g)) : null;
            float[] wideGradient = wide ? WIDE.acquire(outChannels * wideLength(g)) : null;
            try {
                for (int image = lo; image < hi; image++) {
                    int gradOffset = image * outChannels * pixels;
                    if (pointwise) {
                        math.gemm(true, false, patch, pixels, outChannels, 1f, weight, 0, patch,
                                gradOutput, gradOffset, pixels, 0f, gradInput, image * imageSize, pixels);
                    } else if (wide) {
                        int length = wideLength(g);
                        widen(g, gradOutput, gradOffset, wideGradient, length);
                        math.gemm(true, false, patch, length, outChannels, 1f, weight, 0, patch,
                                wideGradient, 0, length, 0f, columns, 0, length);
                        foldWideColumns(math, g, columns, padded);
                        unpadImage(g, padded, gradInput, image * imageSize);
                    } else {
                        math.gemm(true, false, patch, pixels, outChannels, 1f, weight, 0, patch,
                                gradOutput, gradOffset, pixels, 0f, columns, 0, pixels);
                        columnsToImage(g, columns, gradInput, image * imageSize);
                    }
                }
            } finally {
                release(COLUMNS, columns);
                release(PADDED, padded);
                release(WIDE, wideGradient);
            }
        });
    }

    /**
     * {@code gradWeight} and {@code gradBias} (which may be null) = d(loss)/d(weight, bias) summed over the batch;
     * both are overwritten.
     */
    public static void backwardWeight(FloatMath math, ConvGeometry g, float[] gradOutput, float[] input,
                                      float[] gradWeight, float[] gradBias) {
        backwardWeight(math, g, gradOutput, input, gradWeight, gradBias, WideStack.STACK_BYTES);
    }

    /** {@link #backwardWeight} with stride-1 images stacked up to {@code stackBytes} (tests vary it). */
    static void backwardWeight(FloatMath math, ConvGeometry g, float[] gradOutput, float[] input,
                               float[] gradWeight, float[] gradBias, int stackBytes) {
        int patch = patchSize(g);
        int pixels = g.outHeight() * g.outWidth();
        int imageSize = g.inChannels() * g.height() * g.width();
        int outChannels = g.outChannels();
        int weightSize = outChannels * patch;
        boolean pointwise = isPointwise(g);
        boolean wide = !pointwise && isStrideOne(g);
        int batch = g.batch();
        int groups = Math.min(batch, Math.max(MINIMUM_WEIGHT_GROUPS, Parallel.threads()));
        if (groups == 0) {
            Arrays.fill(gradWeight, 0, weightSize, 0f);
            if (gradBias != null) {
                Arrays.fill(gradBias, 0, outChannels, 0f);
            }
            return;
        }
        // Each group sums dW[o][r] = sum_p dY[o][p]·columns[r][p] as inner products of rows (FloatMath.dotProducts),
        // which need no transposition of the big column matrix. In the wide layout its rows are read straight out
        // of the padded images, so it is never built, and a stack of images is one product (see WideStack).
        WideStack stack = wide ? new WideStack(g, GemmSupport.ceilDiv(batch, groups), stackBytes) : null;
        float[][] weightSums = new float[groups][];
        double[][] biasSums = new double[groups][];
        Parallel.forRange(0, groups, 1, (groupLo, groupHi) -> {
            float[] columns = pointwise || wide ? null : COLUMNS.acquire(patch * pixels);
            float[] padded = wide ? PADDED.acquire(stack.paddedLength()) : null;
            float[] wideGradient = wide ? WIDE.acquire(outChannels * stack.depth()) : null;
            int[] rows = new int[patch];
            try {
                for (int group = groupLo; group < groupHi; group++) {
                    float[] weightSum = new float[weightSize];
                    double[] biasSum = gradBias == null ? null : new double[outChannels];
                    int first = (int) ((long) batch * group / groups);
                    int last = (int) ((long) batch * (group + 1) / groups);
                    int step = wide ? stack.images() : 1;
                    for (int image = first; image < last; image += step) {
                        int count = Math.min(step, last - image);
                        int gradOffset = image * outChannels * pixels;
                        float beta = image == first ? 0f : 1f;
                        if (pointwise) {
                            for (int row = 0; row < patch; row++) {
                                rows[row] = image * imageSize + row * pixels;
                            }
                            math.dotProducts(outChannels, patch, pixels, gradOutput, gradOffset, pixels, input, rows,
                                    beta, weightSum, 0, patch);
                        } else if (wide) {
                            stack.pack(input, image, count, padded);
                            stack.widen(gradOutput, image, count, wideGradient);
                            math.dotProducts(outChannels, patch, stack.depth(), wideGradient, 0, stack.depth(),
                                    padded, stack.rows(), beta, weightSum, 0, patch);
                        } else {
                            imageToColumns(g, input, image * imageSize, columns);
                            for (int row = 0; row < patch; row++) {
                                rows[row] = row * pixels;
                            }
                            math.dotProducts(outChannels, patch, pixels, gradOutput, gradOffset, pixels, columns,
                                    rows, beta, weightSum, 0, patch);
                        }
                        if (biasSum != null) {
                            for (int done = 0; done < count; done++) {
                                for (int channel = 0; channel < outChannels; channel++) {
                                    biasSum[channel] += sum(gradOutput, gradOffset + (done * outChannels + channel)
                                            * pixels, pixels);
                                }
                            }
                        }
                    }
                    weightSums[group] = weightSum;
                    biasSums[group] = biasSum;
                }
            } finally {
                release(COLUMNS, columns);
                release(PADDED, padded);
                release(WIDE, wideGradient);
            }
        });
        System.arraycopy(weightSums[0], 0, gradWeight, 0, weightSize);
        for (int group = 1; group < groups; group++) {
            float[] partial = weightSums[group];
            for (int index = 0; index < weightSize; index++) {
                gradWeight[index] += partial[index];
            }
        }
        if (gradBias != null) {
            for (int channel = 0; channel < outChannels; channel++) {
                double total = 0;
                for (int group = 0; group < groups; group++) {
                    total += biasSums[group][channel];
                }
                gradBias[channel] = (float) total;
            }
        }
    }

    /**
     * The stride-1 convolution whose output is {@code g}'s input gradient: input {@code [N, K, OH, OW]}, output
     * {@code [N, C, H, W]}, padding {@code kernel - 1 - pad} (so that its output size is H × W again).
     */
    static ConvGeometry transposed(ConvGeometry g) {
        return new ConvGeometry(g.batch(), g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(),
                g.kernelH(), g.kernelW(), 1, 1, g.kernelH() - 1 - g.padH(), g.kernelW() - 1 - g.padW());
    }

    /** {@code W'[c][k][i][j] = W[k][c][kh-1-i][kw-1-j]}: the weights of {@link #transposed}'s convolution. */
    static float[] flippedTransposedWeight(ConvGeometry g, float[] weight) {
        int kh = g.kernelH();
        int kw = g.kernelW();
        int inChannels = g.inChannels();
        int outChannels = g.outChannels();
        float[] flipped = new float[outChannels * inChannels * kh * kw];
        for (int k = 0; k < outChannels; k++) {
            for (int c = 0; c < inChannels; c++) {
                int source = (k * inChannels + c) * kh * kw;
                int target = (c * outChannels + k) * kh * kw;
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        flipped[target + (kh - 1 - i) * kw + (kw - 1 - j)] = weight[source + i * kw + j];
                    }
                }
            }
        }
        return flipped;
    }

    static boolean isPointwise(ConvGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1
                && g.padH() == 0 && g.padW() == 0;
    }

    private static boolean isStrideOne(ConvGeometry g) {
        return g.strideH() == 1 && g.strideW() == 1;
    }

    /**
     * The wide column matrices of several images laid end to end, so that one {@link FloatMath#dotProducts} sums a
     * stride-1 weight gradient over all of them and reduces each inner product once per stack instead of once per
     * image (with 14 × 14 images a per-image product is only 224 deep).
     *
     * <p>The images of a channel are stacked as one tall plane whose rows are {@code W + gapW} floats: each image's
     * rows, then {@code gapH} rows of zeros, with a {@code padH} × row + {@code padW} run of zeros before the first.
     * Neighbours share their padding: a row's trailing zeros are the next row's left padding as well as its own
     * right padding, and the zero rows between two images are the bottom padding of one and the top padding of the
     * other. Row (c, i, j) of the column matrix is then that plane read from {@code i · row + j} on, and output
     * (image, oh, ow) is depth {@code image · imageStride + oh · row + ow}. The gradient rows are zero at every depth
     * that is no output (the gaps), so what the column rows read there, neighbouring pixels included, adds exact
     * zeros. A 3 × 3 convolution with padding 1 keeps one gap column and one gap row: depth 225 per 14 × 14 image and
     * 841 per 28 × 28 one, where separately padded planes took 256 and 900.
     */
    private static final class WideStack {
        // A stack (planes and gradient rows) takes about this much or less: a core's L2. On the 2-core Zen 4 VM,
        // stacks of 128, 256, 512 KiB, 1 and 4 MiB gave the weight gradient of cnn-teacher's last convolution (64 → 64
        // channels at 14 × 14) 64-76, 95-100, 96-114, 110-122 and 121-126 GFLOP/s; one image per product gave 53-82.
        static final int STACK_BYTES = 1 << 20;

        private final ConvGeometry g;
        private final int rowStride;
        private final int imageStride;
        private final int lead;
        private final int images;
        private final int channelStride;
        private final int depth;
        private final int paddedLength;
        private final int[] rows;

        /**
         * @param groupImages the most images one sum covers, which its stacks split as evenly as they can
         * @param stackBytes  what one stack may take
         */
        WideStack(ConvGeometry g, int groupImages, int stackBytes) {
            this.g = g;
            // A gap holds the padding on either side (reads reach padW past each edge) and the output's extra columns
            // when the padding is wider than the kernel's reach (a 1 × 1 kernel with padding 1: W + 2 outputs).
            int gapW = Math.max(g.padW(), 2 * g.padW() - g.kernelW() + 1);
            int gapH = Math.max(g.padH(), 2 * g.padH() - g.kernelH() + 1);
            rowStride = g.width() + gapW;
            imageStride = (g.height() + gapH) * rowStride;
            lead = g.padH() * rowStride + g.padW();
            long groupBytes = (long) groupImages * (g.inChannels() + g.outChannels()) * imageStride * Float.BYTES;
            int stacks = (int) Math.min(groupImages, Math.max(1, (groupBytes + stackBytes - 1) / stackBytes));
            images = GemmSupport.ceilDiv(groupImages, stacks);
            channelStride = lead + images * imageStride;
            depth = GemmSupport.ceilDiv(images * imageStride, DOT_DEPTH_ALIGN) * DOT_DEPTH_ALIGN;
            // The last row reads depth floats from its start, past the last channel by its start and the rounding.
            int farthestStart = (g.kernelH() - 1) * rowStride + g.kernelW() - 1;
            paddedLength = Math.max(g.inChannels() * channelStride,
                    (g.inChannels() - 1) * channelStride + farthestStart + depth);
            rows = widePatchRows(g, channelStride, rowStride);
        }

        int images() {
            return images;
        }

        int depth() {
            return depth;
        }

        int paddedLength() {
            return paddedLength;
        }

        /** Where row (c, i, j) of the stacked column matrix starts in the stacked planes. */
        int[] rows() {
            return rows;
        }

        /** Stacks images {@code [first, first + count)}; the places of missing images become zeros. */
        void pack(float[] input, int first, int count, float[] padded) {
            for (int channel = 0; channel < g.inChannels(); channel++) {
                int start = channel * channelStride;
                Arrays.fill(padded, start, start + lead, 0f);
                int end = spread(input, g.inChannels(), g.height(), g.width(), first, count, channel, padded,
                        start + lead);
                Arrays.fill(padded, end, start + channelStride, 0f);
            }
            Arrays.fill(padded, g.inChannels() * channelStride, paddedLength, 0f);
        }

        /**
         * Spreads the output gradients of images {@code [first, first + count)} over the stack's gradient rows, zeros
         * everywhere else.
         */
        void widen(float[] gradOutput, int first, int count, float[] wide) {
            for (int channel = 0; channel < g.outChannels(); channel++) {
                int start = channel * depth;
                int end = spread(gradOutput, g.outChannels(), g.outHeight(), g.outWidth(), first, count, channel,
                        wide, start);
                Arrays.fill(wide, end, start + depth, 0f);
            }
        }

        /**
         * Copies one channel of images {@code [first, first + count)} of an {@code [N][channels][rows][width]} array
         * into the stack from {@code at} on: an image every imageStride floats, a row every rowStride, and zeros in
         * the gaps as the rows go in, so that every float is written once. Returns where the last image ends.
         */
        private int spread(float[] source, int channels, int rows, int width, int first, int count, int channel,
                           float[] target, int at) {
            int gapRows = imageStride - rows * rowStride;
            for (int image = 0; image < count; image++) {
                int from = ((first + image) * channels + channel) * rows * width;
                for (int row = 0; row < rows; row++, at += rowStride) {
                    System.arraycopy(source, from + row * width, target, at, width);
                    Arrays.fill(target, at + width, at + rowStride, 0f);
                }
                Arrays.fill(target, at, at + gapRows, 0f);
                at += gapRows;
            }
            return at;
        }
    }

    private static void release(ScratchBuffers pool, float[] buffer) {
        if (buffer != null) {
            pool.release(buffer);
        }
    }

    private static int paddedWidth(ConvGeometry g) {
        return g.width() + 2 * g.padW();
    }

    private static int paddedPlane(ConvGeometry g) {
        return (g.height() + 2 * g.padH()) * paddedWidth(g);
    }

    private static int paddedSize(ConvGeometry g) {
        return g.inChannels() * paddedPlane(g);
    }

    /** Row length of a wide column matrix: output rows {@code Wp} apart, the last one cut after its real pixels. */
    private static int wideLength(ConvGeometry g) {
        return (g.outHeight() - 1) * paddedWidth(g) + g.outWidth();
    }

    /** Copies one image into zero-padded planes of {@code (H + 2·padH) × (W + 2·padW)}. */
    private static void padImage(ConvGeometry g, float[] input, int inputOffset, float[] padded) {
        for (int channel = 0; channel < g.inChannels(); channel++) {
            padPlane(g, input, inputOffset + channel * g.height() * g.width(), padded, channel * paddedPlane(g));
        }
    }

    /** Copies one {@code H × W} plane into the zero-padded plane at {@code base}. */
    private static void padPlane(ConvGeometry g, float[] input, int source, float[] padded, int base) {
        int width = g.width();
        int paddedWidth = paddedWidth(g);
        int padW = g.padW();
        int top = g.padH() * paddedWidth;
        int bottom = (g.padH() + g.height()) * paddedWidth;
        // Only the border needs zeros; the interior is overwritten, so filling the whole plane first would write
        // it twice. Between two rows the right pad of one and the left pad of the next are one run of 2·padW.
        Arrays.fill(padded, base, base + top + padW, 0f);
        for (int h = 0; h < g.height(); h++) {
            int target = base + top + h * paddedWidth + padW;
            System.arraycopy(input, source + h * width, padded, target, width);
            int gapEnd = h + 1 < g.height() ? target + width + 2 * padW : base + bottom;
            Arrays.fill(padded, target + width, gapEnd, 0f);
        }
        Arrays.fill(padded, base + bottom, base + paddedPlane(g), 0f);
    }

    /** The inverse of {@link #padImage}: writes the interior of the padded planes over one image. */
    private static void unpadImage(ConvGeometry g, float[] padded, float[] image, int imageOffset) {
        int width = g.width();
        int paddedWidth = paddedWidth(g);
        int plane = paddedPlane(g);
        for (int channel = 0; channel < g.inChannels(); channel++) {
            int source = channel * plane + g.padH() * paddedWidth + g.padW();
            int target = imageOffset + channel * g.height() * width;
            for (int h = 0; h < g.height(); h++) {
                System.arraycopy(padded, source + h * paddedWidth, image, target + h * width, width);
            }
        }
    }

    /**
     * Wide im2col without the copy: row (c, i, j) of the wide column matrix is the padded plane of channel c read
     * from offset {@code i·Wp + j}, so its start in the padded planes is all the GEMMs need. Channel c's plane (or
     * stack of planes) starts at {@code c · channelStride}, and its rows are {@code rowStride} apart.
     */
    private static int[] widePatchRows(ConvGeometry g, int channelStride, int rowStride) {
        int[] rows = new int[patchSize(g)];
        int row = 0;
        for (int channel = 0; channel < g.inChannels(); channel++) {
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++, row++) {
                    rows[row] = channel * channelStride + i * rowStride + j;
                }
            }
        }
        return rows;
    }

    /** Wide col2im: adds each row of {@code columns} onto the padded planes it was read from, which it zeroes first. */
    private static void foldWideColumns(FloatMath math, ConvGeometry g, float[] columns, float[] padded) {
        int length = wideLength(g);
        int paddedWidth = paddedWidth(g);
        int plane = paddedPlane(g);
        Arrays.fill(padded, 0, paddedSize(g), 0f);
        int row = 0;
        for (int channel = 0; channel < g.inChannels(); channel++) {
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++, row++) {
                    ArrayAdder.addInto(math, padded, channel * plane + i * paddedWidth + j, columns, row * length,
                            length);
                }
            }
        }
    }

    /**
     * Spreads one image's {@code [K, OH, OW]} gradient over rows {@code Wp} apart, zeros in the junk columns; each
     * channel's wide row is {@code rowStride} floats, zeros after its {@code wideLength} real ones.
     */
    private static void widen(ConvGeometry g, float[] gradOutput, int gradOffset, float[] wide, int rowStride) {
        int length = wideLength(g);
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        int paddedWidth = paddedWidth(g);
        for (int channel = 0; channel < g.outChannels(); channel++) {
            int target = channel * rowStride;
            int source = gradOffset + channel * outHeight * outWidth;
            Arrays.fill(wide, target + length, target + rowStride, 0f);
            for (int oh = 0; oh < outHeight; oh++) {
                int to = target + oh * paddedWidth;
                System.arraycopy(gradOutput, source + oh * outWidth, wide, to, outWidth);
                if (oh + 1 < outHeight) {
                    Arrays.fill(wide, to + outWidth, to + paddedWidth, 0f);
                }
            }
        }
    }

    /** Gathers the real pixels of a wide {@code [K, length]} output into {@code output}, adding the bias if any. */
    private static void narrow(ConvGeometry g, float[] wide, float[] output, int outOffset) {
        int length = wideLength(g);
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        int paddedWidth = paddedWidth(g);
        for (int channel = 0; channel < g.outChannels(); channel++) {
            int source = channel * length;
            int target = outOffset + channel * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++) {
                System.arraycopy(wide, source + oh * paddedWidth, output, target + oh * outWidth, outWidth);
            }
        }
    }

    /** The {@code [K, C·kh·kw]} weights with the bias as one more column when {@code depth} has room for it. */
    private static float[] weightWithBias(float[] weight, float[] bias, int outChannels, int patch, int depth) {
        if (depth == patch) {
            return weight;
        }
        float[] joined = new float[outChannels * depth];
        for (int channel = 0; channel < outChannels; channel++) {
            System.arraycopy(weight, channel * patch, joined, channel * depth, patch);
            joined[channel * depth + patch] = bias[channel];
        }
        return joined;
    }

    private static int patchSize(ConvGeometry g) {
        return g.inChannels() * g.kernelH() * g.kernelW();
    }

    private static double sum(float[] values, int start, int length) {
        // Four float lanes vectorize; the double total keeps large batches accurate.
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int index = 0;
        for (; index + 4 <= length; index += 4) {
            s0 += values[start + index];
            s1 += values[start + index + 1];
            s2 += values[start + index + 2];
            s3 += values[start + index + 3];
        }
        double total = (double) s0 + s1 + s2 + s3;
        for (; index < length; index++) {
            total += values[start + index];
        }
        return total;
    }

    /** First output column {@code o} whose input position {@code o * stride - pad + offset} is at least 0. */
    private static int firstInside(int offset, int stride, int pad, int outSize) {
        int shortfall = pad - offset;
        return shortfall <= 0 ? 0 : Math.min(outSize, (shortfall + stride - 1) / stride);
    }

    /** One past the last output column whose input position {@code o * stride - pad + offset} is below size. */
    private static int endInside(int offset, int stride, int pad, int size, int outSize) {
        int room = size - 1 + pad - offset;
        return room < 0 ? 0 : Math.min(outSize, room / stride + 1);
    }

    /** Unfolds one image into {@code columns[(c, i, j), (oh, ow)]}, zeros where the kernel overhangs the padding. */
    static void imageToColumns(ConvGeometry g, float[] input, int inputOffset, float[] columns) {
        int height = g.height();
        int width = g.width();
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        int strideH = g.strideH();
        int strideW = g.strideW();
        int row = 0;
        for (int channel = 0; channel < g.inChannels(); channel++) {
            int plane = inputOffset + channel * height * width;
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++, row++) {
                    int rowStart = row * outHeight * outWidth;
                    int owLo = firstInside(j, strideW, g.padW(), outWidth);
                    int owHi = Math.max(owLo, endInside(j, strideW, g.padW(), width, outWidth));
                    for (int oh = 0; oh < outHeight; oh++) {
                        int target = rowStart + oh * outWidth;
                        int ih = oh * strideH - g.padH() + i;
                        if (ih < 0 || ih >= height) {
                            Arrays.fill(columns, target, target + outWidth, 0f);
                            continue;
                        }
                        Arrays.fill(columns, target, target + owLo, 0f);
                        int source = plane + ih * width - g.padW() + j;
                        if (strideW == 1) {
                            System.arraycopy(input, source + owLo, columns, target + owLo, owHi - owLo);
                        } else {
                            for (int ow = owLo; ow < owHi; ow++) {
                                columns[target + ow] = input[source + ow * strideW];
                            }
                        }
                        Arrays.fill(columns, target + owHi, target + outWidth, 0f);
                    }
                }
            }
        }
    }

    /** Folds {@code columns} back onto one image, adding overlapping contributions; the image is overwritten. */
    static void columnsToImage(ConvGeometry g, float[] columns, float[] image, int imageOffset) {
        int height = g.height();
        int width = g.width();
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        int strideH = g.strideH();
        int strideW = g.strideW();
        Arrays.fill(image, imageOffset, imageOffset + g.inChannels() * height * width, 0f);
        int row = 0;
        for (int channel = 0; channel < g.inChannels(); channel++) {
            int plane = imageOffset + channel * height * width;
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++, row++) {
                    int rowStart = row * outHeight * outWidth;
                    int owLo = firstInside(j, strideW, g.padW(), outWidth);
                    int owHi = endInside(j, strideW, g.padW(), width, outWidth);
                    for (int oh = 0; oh < outHeight; oh++) {
                        int ih = oh * strideH - g.padH() + i;
                        if (ih < 0 || ih >= height) {
                            continue;
                        }
                        int source = rowStart + oh * outWidth;
                        int target = plane + ih * width - g.padW() + j;
                        if (strideW == 1) {
                            for (int ow = owLo; ow < owHi; ow++) {
                                image[target + ow] += columns[source + ow];
                            }
                        } else {
                            for (int ow = owLo; ow < owHi; ow++) {
                                image[target + ow * strideW] += columns[source + ow];
                            }
                        }
                    }
                }
            }
        }
    }
}
