package dev.retort.nn;

import dev.retort.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * He et al. (2016)'s ResNets for 32×32 inputs: a 3×3 stem of 16 channels, three stages of n basic
 * blocks (16, 32, 64 channels; the last two halve the resolution), global average pooling and a
 * linear head. Depth 6n + 2: resnet20 has n = 3, resnet8 n = 1.
 */
public final class CifarResNet extends Module {
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Sequential layer1;
    private final Sequential layer2;
    private final Sequential layer3;
    private final Linear fc;

    /** A CIFAR ResNet of the given depth (6n + 2), input channels and classes, initialised from {@code rng}. */
    public CifarResNet(int depth, int inChannels, int classes, SplittableRandom rng) {
        if (depth < 8 || (depth - 2) % 6 != 0) {
            throw new IllegalArgumentException("CifarResNet: depth must be 6n + 2 with n ≥ 1, got " + depth);
        }
        int blocks = (depth - 2) / 6;
        conv1 = addModule("conv1", new Conv2d(inChannels, 16, 3, 1, 1, false, rng));
        bn1 = addModule("bn1", new BatchNorm2d(16));
        layer1 = addModule("layer1", stage(16, 16, blocks, 1, rng));
        layer2 = addModule("layer2", stage(16, 32, blocks, 2, rng));
        layer3 = addModule("layer3", stage(32, 64, blocks, 2, rng));
        fc = addModule("fc", new Linear(64, classes, rng));
    }

    private static Sequential stage(int in, int out, int blocks, int stride, SplittableRandom rng) {
        Sequential s = new Sequential(new BasicBlock(in, out, stride, rng));
        for (int i = 1; i < blocks; i++) {
            s.add(new BasicBlock(out, out, 1, rng));
        }
        return s;
    }

    /** The last feature map before the head ([N, 64, H/4, W/4]). */
    public Tensor features(Tensor input) {
        Tensor x = bn1.call(conv1.call(input)).relu();
        return layer3.call(layer2.call(layer1.call(x)));
    }

    @Override
    public Tensor forward(Tensor input) {
        return fc.call(features(input).mean(false, 2, 3));
    }
}
