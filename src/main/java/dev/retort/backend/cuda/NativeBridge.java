package dev.retort.backend.cuda;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Loads the JNI bridge to cuBLAS and cuDNN (native/bridge_*.c, packed in the jar) and binds those
 * libraries at run time; {@link CudaHandles} then makes the calls.
 *
 * <p>Order of use: {@link #unavailableReason()} (null when the bridge library loaded), then {@link #init} once per
 * process (it finds libcublas.so.13 or .so.12, libcudnn.so.9 and the driver's libcuda.so.1 and reports what came
 * from where), then {@link CudaHandles#open} per stream with a CUDA context current on the calling thread.
 */
public final class NativeBridge {

    /** The library's place beside this class, as native/build.sh writes it. */
    static final String RESOURCE = "native/linux-x86_64/libretort_cuda.so";

    private static Binding binding;

    private NativeBridge() {}

    /** Holder: the library loads on first use, once. */
    private static final class Library {
        static final String UNAVAILABLE = load();
    }

    /**
     * Null when the bridge library is loaded and {@link #init} may be called; otherwise one sentence saying why not
     * and what to do.
     */
    public static String unavailableReason() {
        return Library.UNAVAILABLE;
    }

    private static String load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "the cuBLAS/cuDNN bridge is built for linux-x86_64 only; this is " + os + "-" + arch;
        }
        URL url = NativeBridge.class.getResource(RESOURCE);
        if (url == null) {
            return "the cuBLAS/cuDNN bridge library is not in this build (it was built with -Dretort.native.skip=true"
                    + " or without gcc): rebuild with gcc installed";
        }
        try {
            if ("file".equals(url.getProtocol())) {
                System.load(Path.of(url.toURI()).toString()); // running from target/classes
                return null;
            }
            // Inside a jar: the loader needs a file. Linux keeps the mapping after the file is deleted, so nothing
            // is left behind even if the JVM dies.
            Path copy = Files.createTempFile("libretort_cuda", ".so");
            try (InputStream in = url.openStream()) {
                Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
                System.load(copy.toString());
            } finally {
                Files.deleteIfExists(copy);
            }
            return null;
        } catch (IOException | URISyntaxException | UnsatisfiedLinkError | SecurityException e) {
            return "the cuBLAS/cuDNN bridge library did not load (" + e.getMessage() + ")";
        }
    }

    /**
     * Binds cuBLAS, cuDNN and the CUDA driver once per process; later calls return the first binding whatever
     * their arguments. Searched in order: {@code explicitFolder} (one folder or several separated by ':'; may be
     * null), the loader path, then {@code candidateFolders} ({@link CudaLibraries#candidateFolders()}).
     *
     * @throws IllegalStateException when the bridge library itself did not load ({@link #unavailableReason()})
     * @throws CudaLibraryException when a library or one of its symbols is missing: the message names the library,
     *     the folders searched and what to install
     */
    public static synchronized Binding init(String explicitFolder, List<String> candidateFolders) {
        if (binding != null) {
            return binding;
        }
        if (candidateFolders == null) {
            throw new IllegalArgumentException("NativeBridge.init: candidateFolders must not be null (List.of() for none)");
        }
        String reason = unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        List<String> explicit = new ArrayList<>();
        if (explicitFolder != null) {
            for (String folder : explicitFolder.split(File.pathSeparator)) {
                if (!folder.isBlank()) {
                    explicit.add(folder);
                }
            }
        }
        List<String> candidates = List.copyOf(candidateFolders);
        String[] pairs = nInit(explicit.toArray(String[]::new), candidates.toArray(String[]::new));
        List<String> searched = new ArrayList<>(explicit);
        searched.add(Binding.LOADER_PATH);
        searched.addAll(candidates);
        binding = Binding.of(pairs, searched);
        return binding;
    }

    /** {@link #init} with {@link CudaLibraries}' folders: the option, else {@code $RETORT_CUDA_LIBS}, and so on. */
    public static Binding initFromEnvironment(String explicitOption) {
        return init(CudaLibraries.explicitFolder(explicitOption), CudaLibraries.candidateFolders());
    }

    /** For {@code retort doctor}: what the bridge bound and from where, or why it has not. */
    public static String describe() {
        String reason = unavailableReason();
        if (reason != null) {
            return reason;
        }
        Binding b = binding();
        return b == null ? "the bridge library is loaded; cuBLAS and cuDNN are not bound yet" : b.describe();
    }

    /** The binding made by {@link #init}, or null before it succeeded. */
    public static synchronized Binding binding() {
        return binding;
    }

    /** What the bridge bound and from where, for {@code retort doctor} and logs. */
    public record Binding(String cublasPath, String cublasVersion, String cublasLtPath, String nvrtcPath,
                          String cudnnPath, String cudnnVersion, String cudnnCudartVersion, String driverPath, String driverVersion,
                          List<String> searched) {

        static final String LOADER_PATH = "the loader path (LD_LIBRARY_PATH, ldconfig)";

        /** Copies {@code searched}, so the record stays immutable. */
        public Binding {
            searched = List.copyOf(searched);
        }

        static Binding of(String[] pairs, List<String> searched) {
            Map<String, String> values = new HashMap<>();
            for (int i = 0; i + 1 < pairs.length; i += 2) {
                if (pairs[i] != null) {
                    values.put(pairs[i], pairs[i + 1] == null || pairs[i + 1].isEmpty() ? null : pairs[i + 1]);
                }
            }
            return new Binding(values.get("cublas.path"), values.get("cublas.version"), values.get("cublasLt.path"),
                    values.get("nvrtc.path"), values.get("cudnn.path"), values.get("cudnn.version"), values.get("cudnn.cudart"),
                    values.get("driver.path"), values.get("driver.version"), searched);
        }

        /** One line per library: version and file. */
        public String describe() {
            return "cuBLAS " + cublasVersion + " from " + cublasPath
                    + (cublasLtPath == null ? "" : "\ncuBLASLt from " + cublasLtPath)
                    + (nvrtcPath == null ? "\nNVRTC not found (cuDNN's runtime-compiled engines will fail to load)"
                            : "\nNVRTC from " + nvrtcPath)
                    + "\ncuDNN " + cudnnVersion + " from " + cudnnPath
                    + (cudnnCudartVersion == null ? "" : " (built with CUDA runtime " + cudnnCudartVersion + ")")
                    + "\nCUDA driver " + (driverVersion == null ? "?" : driverVersion) + " from " + driverPath;
        }
    }

    /** Test support: forgets the binding (no handles may be open), so another set of libraries can be bound. */
    static synchronized void resetForTests() {
        if (unavailableReason() == null) {
            nReset();
        }
        binding = null;
    }

    /** Test support: the address of a direct buffer, to drive the bridge on host memory with fake libraries. */
    static long addressOf(Buffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("addressOf: " + direct + " is not a direct buffer");
        }
        return nAddressOf(direct);
    }

    // ---- the JNI entry points (native/bridge_*.c); CudaHandles validates arguments first ----

    static native String[] nInit(String[] explicitFolders, String[] candidateFolders);

    static native void nReset();

    static native long nAddressOf(Buffer direct);

    static native long nCreate(long stream, int search, boolean deterministic, boolean convolutionTf32);

    static native void nDestroy(long handles);

    static native long[] nStatistics(long handles);

    static native void nSgemm(long handles, boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                              long b, float beta, long c);

    static native void nGemmEx(long handles, boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                               long b, float beta, long c, boolean tf32);

    static native void nSgemmStridedBatched(long handles, boolean transA, boolean transB, int m, int n, int k,
                                            float alpha, long a, long strideA, long b, long strideB, float beta,
                                            long c, long strideC, int batch);

    static native void nConvolutionForward(long handles, int n, int c, int h, int w, int k, int kernelH, int kernelW,
                                           int padH, int padW, int strideH, int strideW, long x, long weight, long y);

    static native void nConvolutionBackwardData(long handles, int n, int c, int h, int w, int k, int kernelH,
                                                int kernelW, int padH, int padW, int strideH, int strideW,
                                                long weight, long dy, long dx);

    static native void nConvolutionBackwardFilter(long handles, int n, int c, int h, int w, int k, int kernelH,
                                                  int kernelW, int padH, int padW, int strideH, int strideW, long x,
                                                  long dy, long dw);

    static native void nAddBias(long handles, int n, int c, int h, int w, long bias, long y);

    static native void nPoolingForward(long handles, int n, int c, int h, int w, int windowH, int windowW, int padH,
                                       int padW, int strideH, int strideW, boolean max, long x, long y);

    static native void nPoolingBackward(long handles, int n, int c, int h, int w, int windowH, int windowW, int padH,
                                        int padW, int strideH, int strideW, boolean max, long y, long dy, long x,
                                        long dx);

    static native void nBatchNormForwardTraining(long handles, int n, int c, int h, int w, double eps, double factor,
                                                 long x, long gamma, long beta, long y, long runningMean,
                                                 long runningVar, long saveMean, long saveInvStd);

    static native void nBatchNormForwardInference(long handles, int n, int c, int h, int w, double eps, long x,
                                                  long gamma, long beta, long mean, long var, long y);

    static native void nBatchNormBackward(long handles, int n, int c, int h, int w, double eps, long x, long dy,
                                          long gamma, long savedMean, long savedInvStd, long dx, long dGamma,
                                          long dBeta);
}
