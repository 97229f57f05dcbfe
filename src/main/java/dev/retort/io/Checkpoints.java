package dev.retort.io;

import dev.retort.backend.DType;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves and loads a module's state dict as safetensors with PyTorch's names and layouts, so a
 * checkpoint moves between Retort and PyTorch ({@code model.load_state_dict(safetensors.torch.load_file(p))}).
 *
 * <p>PyTorch's BatchNorm keeps a {@code num_batches_tracked} counter (I64) that Retort does not (it only
 * matters for {@code momentum=None}); {@link #load} ignores such entries when the module has no state of
 * that name, and {@link #save} does not write them, which PyTorch accepts only with
 * {@code load_state_dict(..., strict=False)}.
 */
public final class Checkpoints {
    private static final String NUM_BATCHES_TRACKED = "num_batches_tracked";
    /** The metadata key under which a training run records its model (a reference name or a JSON file). */
    public static final String MODEL_METADATA = "model";

    private Checkpoints() {}

    /** Writes {@code module.stateDict()} and {@code metadata} to {@code file} atomically: a failure keeps the old file. */
    public static void save(Module module, Path file, Map<String, String> metadata) throws IOException {
        SafeTensors.write(file, module.stateDict(), metadata == null ? Map.of() : metadata);
    }

    /**
     * Copies the tensors of {@code file} into {@code module}'s state, by PyTorch name, and returns the
     * file's metadata. Every state entry must be in the file with the same shape and no other entries
     * may be (PyTorch's {@code num_batches_tracked} excepted); F64, F16 and BF16 values are converted
     * to the module's float32. On any mismatch the message names the file and the keys, and the module
     * is left unchanged.
     */
    public static Map<String, String> load(Module module, Path file) throws IOException {
        Map<String, Tensor> state = module.stateDict();
        try (SafeTensors.Contents contents = SafeTensors.read(file,
                name -> isNumBatchesTracked(name) && !state.containsKey(name))) {
            Map<String, Tensor> values = new LinkedHashMap<>();
            for (var e : contents.tensors().entrySet()) {
                Tensor target = state.get(e.getKey());
                DType given = e.getValue().dtype();
                if (target != null && given.isFloatingPoint() != target.dtype().isFloatingPoint()) {
                    throw new FileFormatException(file, "tensor '" + e.getKey() + "' holds " + given
                            + " values, the module keeps " + target.dtype());
                }
                values.put(e.getKey(), e.getValue());
            }
            try {
                module.loadStateDict(values);
            } catch (IllegalArgumentException ex) {
                // Retort's checkpoints name their model in the metadata: say which, rather than only list keys.
                String saved = contents.metadata().get(MODEL_METADATA);
                throw new IllegalArgumentException("Checkpoints.load(" + file + "): " + (saved == null
                        ? ex.getMessage() + "; was the checkpoint saved from a different model?"
                        : "the file holds the weights of model '" + saved + "' (its metadata says so), which do not fit "
                          + "this network; use that model (" + ex.getMessage() + ")"), ex);
            }
            return contents.metadata();
        }
    }

    private static boolean isNumBatchesTracked(String name) {
        return name.equals(NUM_BATCHES_TRACKED) || name.endsWith("." + NUM_BATCHES_TRACKED);
    }
}
