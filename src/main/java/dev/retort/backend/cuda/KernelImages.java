package dev.retort.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * The compiled kernel images (fatbins) packed into the jar by kernels/build.sh, read from the classpath and
 * checked for the fatbin header, with what they were built for. When any is missing or damaged,
 * {@link #available()} is false and {@link #unavailableReason()} says why in one sentence, so the CUDA backend
 * can report itself unavailable instead of failing later.
 */
public final class KernelImages {
    /** Classpath folder of the fatbins and kernels.properties. */
    public static final String RESOURCE_DIR = "/dev/retort/backend/cuda/kernels/";
    /** Little-endian magic number opening a fatbin (fatBinaryHeader in CUDA's fatbinary_section.h). */
    public static final int FATBIN_MAGIC = 0xBA55ED50;
    static final int FATBIN_HEADER_BYTES = 16;

    private final Map<String, byte[]> images;
    private final String reason;
    private final List<String> targets;
    private final String nvccVersion;

    private KernelImages(Map<String, byte[]> images, String reason, List<String> targets, String nvccVersion) {
        this.images = images;
        this.reason = reason;
        this.targets = targets;
        this.nvccVersion = nvccVersion;
    }

    /**
     * Environment variable naming a folder of images (and kernels.properties) to use instead of the jar's: the
     * emulated CUDA device's images (native/emulated-cuda/build.sh), or kernels built apart from the jar.
     */
    public static final String FOLDER_VARIABLE = "RETORT_CUDA_KERNELS";

    /** The images in {@code $RETORT_CUDA_KERNELS} when it is set, else those on this class's classpath. */
    public static KernelImages load() {
        String folder = System.getenv(FOLDER_VARIABLE);
        if (folder != null && !folder.isBlank()) {
            return load(name -> {
                try {
                    return Files.newInputStream(Path.of(folder, name));
                } catch (IOException e) {
                    return null; // a missing file: load() names it
                }
            });
        }
        return load(name -> KernelImages.class.getResourceAsStream(RESOURCE_DIR + name));
    }

    /** The images that {@code open} returns by file name (null for a missing file). */
    public static KernelImages load(Function<String, InputStream> open) {
        Properties built = new Properties();
        try (InputStream in = open.apply("kernels.properties")) {
            if (in == null) {
                return unavailable("the CUDA kernels were not built into this jar (they are built only when asked: "
                        + "mvn -Pcuda package, on a machine with the CUDA toolkit)", List.of(), "");
            }
            built.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the kernel build description kernels.properties", e);
        }
        List<String> targets = split(built.getProperty("targets", ""));
        String nvcc = built.getProperty("nvcc", "?");
        Map<String, byte[]> images = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String module : KernelModules.MODULE_KERNELS.keySet()) {
            String file = module + ".fatbin";
            byte[] bytes;
            try (InputStream in = open.apply(file)) {
                if (in == null) {
                    missing.add(file);
                    continue;
                }
                bytes = in.readAllBytes();
            } catch (IOException e) {
                return unavailable("the kernel image " + file + " cannot be read: " + e.getMessage(), targets, nvcc);
            }
            String problem = validate(file, bytes);
            if (problem != null) {
                return unavailable(problem + ": rebuild Retort (kernels/build.sh)", targets, nvcc);
            }
            images.put(module, bytes);
        }
        if (!missing.isEmpty()) {
            return unavailable("the kernel image" + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing)
                    + (missing.size() == 1 ? " is" : " are") + " missing from the jar: rebuild Retort (kernels/build.sh)",
                    targets, nvcc);
        }
        return new KernelImages(Collections.unmodifiableMap(images), null, targets, nvcc);
    }

    private static KernelImages unavailable(String reason, List<String> targets, String nvcc) {
        return new KernelImages(Map.of(), reason, targets, nvcc);
    }

    private static List<String> split(String csv) {
        List<String> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * Null when {@code bytes} look like one complete fatbin — the magic number, header version 1, and a header
     * whose sizes add up to the file's length — else what is wrong, naming the file.
     */
    public static String validate(String file, byte[] bytes) {
        if (bytes.length < FATBIN_HEADER_BYTES) {
            return "the kernel image " + file + " is damaged: " + bytes.length + " bytes, shorter than a fatbin header";
        }
        int magic = littleEndianInt(bytes, 0);
        if (magic != FATBIN_MAGIC) {
            return String.format("the kernel image %s is not a fatbin: magic 0x%08X, expected 0x%08X", file, magic,
                    FATBIN_MAGIC);
        }
        int version = (bytes[4] & 0xff) | (bytes[5] & 0xff) << 8;
        int headerSize = (bytes[6] & 0xff) | (bytes[7] & 0xff) << 8;
        long fatSize = (littleEndianInt(bytes, 8) & 0xffffffffL) | (long) littleEndianInt(bytes, 12) << 32;
        if (version != 1 || headerSize < FATBIN_HEADER_BYTES) {
            return "the kernel image " + file + " has an unknown fatbin header (version " + version + ", header size "
                    + headerSize + ")";
        }
        if (headerSize + fatSize != bytes.length) {
            return "the kernel image " + file + " is damaged: its header announces " + (headerSize + fatSize)
                    + " bytes, the file has " + bytes.length;
        }
        return null;
    }

    private static int littleEndianInt(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

    /** Whether every module's fatbin was found and checked; if not, {@link #unavailableReason} says why. */
    public boolean available() {
        return reason == null;
    }

    /** One sentence on why the kernels cannot be used, or null when they can. */
    public String unavailableReason() {
        return reason;
    }

    /** The fatbin of a module (kernels/&lt;module&gt;.cu). */
    public byte[] image(String module) {
        byte[] bytes = images.get(module);
        if (bytes == null) {
            throw new IllegalStateException(reason != null ? reason : "no kernel module named " + module);
        }
        return bytes;
    }

    /** Names of the modules whose images were read (kernels/&lt;module&gt;.cu); a copy. */
    public List<String> modules() {
        return List.copyOf(images.keySet());
    }

    /** The nvcc targets the images hold, e.g. sm_80, …, compute_120 (empty when unknown). */
    public List<String> targets() {
        return targets;
    }

    /** The CUDA toolkit version that compiled the images, e.g. 13.0. */
    public String nvccVersion() {
        return nvccVersion;
    }

    /** Total bytes of the images. */
    public long totalBytes() {
        long n = 0;
        for (byte[] b : images.values()) {
            n += b.length;
        }
        return n;
    }

    /** The images in this jar, read once per process (what the CUDA backend loads). */
    public static KernelImages bundled() {
        return Bundled.IMAGES;
    }

    private static final class Bundled {
        static final KernelImages IMAGES = load();
    }

    /** For {@code retort doctor}: the modules, targets and toolkit of the bundled images, or why there are none. */
    public static String describe() {
        KernelImages k = bundled();
        if (!k.available()) {
            return k.unavailableReason();
        }
        return k.modules().size() + " modules (" + k.totalBytes() / 1024 + " KiB) for " + String.join(",", k.targets())
                + ", built by nvcc " + k.nvccVersion();
    }
}
