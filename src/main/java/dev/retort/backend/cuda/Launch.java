package dev.retort.backend.cuda;

/**
 * One kernel launch, fully decided on the host: the kernel's name, a one-dimensional grid, the block shape
 * (blockY is 1 except for the column-sum kernel), and the arguments. Kernels use static shared memory only.
 */
public record Launch(String kernel, int gridX, int blockX, int blockY, KernelArgs args) {
    /**
     * @throws IllegalStateException if the grid or block is empty, the block has more than 1024 threads or is
     * not a whole number of 32-thread warps: always a planning bug, never a user error
     */
    public Launch {
        if (gridX < 1 || blockX < 1 || blockY < 1 || blockX * blockY > 1024 || (blockX * blockY) % 32 != 0) {
            throw new IllegalStateException(kernel + ": bad launch shape grid " + gridX + ", block " + blockX + "×"
                    + blockY + " (a bug in a plan class)");
        }
    }

    /** {@code blockX * blockY}: at most 1024, a multiple of 32. */
    public int threadsPerBlock() {
        return blockX * blockY;
    }

    @Override
    public String toString() {
        return kernel + "<<<" + gridX + ", " + (blockY == 1 ? Integer.toString(blockX) : blockX + "×" + blockY)
                + ">>>" + args;
    }
}
