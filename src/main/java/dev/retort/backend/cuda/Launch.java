package dev.retort.backend.cuda;

/**
 * One kernel launch, fully decided on the host: the kernel's name, a one-dimensional grid, the block shape
 * (blockY is 1 except for the column-sum kernel), and the arguments. Kernels use static shared memory only.
 */
public record Launch(String kernel, int gridX, int blockX, int blockY, KernelArgs args) {
    public Launch {
        if (gridX < 1 || blockX < 1 || blockY < 1 || blockX * blockY > 1024 || (blockX * blockY) % 32 != 0) {
            throw new IllegalStateException(kernel + ": bad launch shape grid " + gridX + ", block " + blockX + "×"
                    + blockY + " (a bug in KernelPlans)");
        }
    }

    public int threadsPerBlock() {
        return blockX * blockY;
    }

    @Override
    public String toString() {
        return kernel + "<<<" + gridX + ", " + (blockY == 1 ? Integer.toString(blockX) : blockX + "×" + blockY)
                + ">>>" + args;
    }
}
