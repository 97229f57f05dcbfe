package dev.retort.nn;

import dev.retort.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * The residual block of He et al.'s CIFAR ResNets: conv3×3-BN-ReLU-conv3×3-BN plus a shortcut,
 * then ReLU. The shortcut is the identity, or a 1×1 convolution with BN where the shape changes
 * (option B; state-dict names conv1, bn1, conv2, bn2, downsample.0, downsample.1 as in torchvision).
 */
public final class BasicBlock extends Module {
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Conv2d conv2;
    private final BatchNorm2d bn2;
    private final Sequential downsample;

    /** A residual block; a stride above 1 or a change of channels gives it a 1×1 convolution shortcut. */
    public BasicBlock(int inChannels, int outChannels, int stride, SplittableRandom rng) {
        conv1 = addModule("conv1", new Conv2d(inChannels, outChannels, 3, stride, 1, false, rng));
        bn1 = addModule("bn1", new BatchNorm2d(outChannels));
        conv2 = addModule("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1, false, rng));
        bn2 = addModule("bn2", new BatchNorm2d(outChannels));
        downsample = stride != 1 || inChannels != outChannels
                ? addModule("downsample", new Sequential(new Conv2d(inChannels, outChannels, 1, stride, 0, false, rng),
                        new BatchNorm2d(outChannels)))
                : null;
    }

    @Override
    public Tensor forward(Tensor input) {
        Tensor out = bn1.call(conv1.call(input)).relu();
        out = bn2.call(conv2.call(out));
        Tensor shortcut = downsample == null ? input : downsample.call(input);
        return out.add(shortcut).relu();
    }
}
