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

    /** A file whose tensors do not fit the module: other names or other shapes. */
    public static final class Mismatch extends IllegalArgumentException {
        private final transient Path file;
        private final String savedModel;
        private final String difference;

        Mismatch(Path file, String savedModel, String difference, Throwable cause) {
            super(file + ": " + (savedModel == null ? difference + "; was it saved from a different model?"
                    : "holds the weights of model '" + savedModel + "' (its metadata says so), which do not fit this "
                    + "network (" + difference + ")"), cause);
            this.file = file;
            this.savedModel = savedModel;
            this.difference = difference;
        }

        /**
         * One line for a command: {@code weightsOption} (e.g. {@code --weights}) names the file, {@code modelOption}
         * the network it was loaded into, and the line says which model the file holds when its metadata records it.
         */
        public String describe(String weightsOption, String modelOption, String model) {
            return weightsOption + " " + file + ": holds the weights of " + (savedModel == null
                    ? "a different model than " + modelOption + " " + model + " (" + difference + "); pass the "
                            + modelOption + " the weights were trained as"
                    : "model '" + savedModel + "' (its metadata says so), not of " + modelOption + " " + model
                            + "; pass " + modelOption + " " + savedModel + " (" + difference + ")");
        }
    }

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
                throw new Mismatch(file, contents.metadata().get(MODEL_METADATA),
                        ex.getMessage().replaceFirst("^loadStateDict: ", ""), ex);
            }
            return contents.metadata();
        }
    }

    private static boolean isNumBatchesTracked(String name) {
        return name.equals(NUM_BATCHES_TRACKED) || name.endsWith("." + NUM_BATCHES_TRACKED);
    }
}
