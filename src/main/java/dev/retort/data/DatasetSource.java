package dev.retort.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Where a dataset's files are: docs/formats.md's lookup order ({@code --data DIR}, {@code $RETORT_DATA},
 * {@code ~/.cache/retort/<name>}, the Debian package's folder), then a download from the official location
 * into the cache, accepted only when its SHA-256 matches the pinned one.
 */
public final class DatasetSource {
    /** How a folder is recognised as holding the dataset. */
    public enum Format {
        /** The four uncompressed IDX files of MNIST and Fashion-MNIST. */
        IDX,
        /** CIFAR-10's binary batches: five training files and one test file of 3073-byte records. */
        CIFAR_BINARY
    }

    /** A file to download and its published SHA-256 (lower-case hex). */
    public record RemoteFile(String name, String sha256) {}

    /**
     * A dataset: its cache folder name, how its files look, where it is published (base URLs tried in
     * order, each followed by a file name), the pinned files, system folders to search, and what to install.
     */
    public record Spec(String name, Format format, List<String> baseUrls, List<RemoteFile> downloads,
            List<Path> systemFolders, String installHint) {
        /** The same dataset with other published files (tests serve their own fixtures). */
        public Spec withDownloads(List<RemoteFile> files) {
            return new Spec(name, format, baseUrls, files, systemFolders, installHint);
        }

        /** The same dataset searched in other system folders (tests must not see the machine's copy). */
        public Spec withSystemFolders(List<Path> folders) {
            return new Spec(name, format, baseUrls, downloads, folders, installHint);
        }
    }

    /** System property and environment variable that replace every dataset's base URL. */
    public static final String MIRROR_PROPERTY = "retort.data.mirror";
    /** The environment variable that replaces every dataset's base URL. */
    public static final String MIRROR_ENV = "RETORT_DATA_MIRROR";
    /** The CIFAR-10 archive that is downloaded and unpacked. */
    public static final String CIFAR_ARCHIVE = "cifar-10-binary.tar.gz";

    /** Fashion-MNIST: Zalando's IDX files, and Debian's dataset-fashion-mnist folder. */
    public static final Spec FASHION_MNIST = new Spec("fashion-mnist", Format.IDX,
            List.of("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
            List.of(new RemoteFile("train-images-idx3-ubyte.gz",
                            "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"),
                    new RemoteFile("train-labels-idx1-ubyte.gz",
                            "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"),
                    new RemoteFile("t10k-images-idx3-ubyte.gz",
                            "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"),
                    new RemoteFile("t10k-labels-idx1-ubyte.gz",
                            "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf")),
            List.of(Path.of("/usr/share/datasets/fashion-mnist")),
            "install Debian's package (apt-get install dataset-fashion-mnist)");

    /** LeCun's site is the official home; the PyTorch mirror serves the same bytes when it is down. */
    public static final Spec MNIST = new Spec("mnist", Format.IDX,
            List.of("http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
            List.of(new RemoteFile("train-images-idx3-ubyte.gz",
                            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
                    new RemoteFile("train-labels-idx1-ubyte.gz",
                            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
                    new RemoteFile("t10k-images-idx3-ubyte.gz",
                            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
                    new RemoteFile("t10k-labels-idx1-ubyte.gz",
                            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")),
            List.of(), "download the four IDX files from http://yann.lecun.com/exdb/mnist/ by hand");

    /** CIFAR-10, binary version, from its author's page. */
    public static final Spec CIFAR_10 = new Spec("cifar-10", Format.CIFAR_BINARY,
            List.of("https://www.cs.toronto.edu/~kriz/"),
            List.of(new RemoteFile(CIFAR_ARCHIVE, "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd")),
            List.of(), "download and unpack https://www.cs.toronto.edu/~kriz/" + CIFAR_ARCHIVE + " by hand");

    /** Every dataset {@link #spec} knows. */
    public static final List<Spec> KNOWN = List.of(FASHION_MNIST, MNIST, CIFAR_10);

    private final Spec spec;
    private final Path explicit;
    private final String retortData;
    private final Path cacheRoot;
    private final String mirror;
    private final Duration timeout;
    private final Consumer<String> log;

    /**
     * @param explicit   {@code --data DIR}, or null
     * @param retortData the value of $RETORT_DATA, or null
     * @param cacheRoot  the folder holding one cache folder per dataset (normally ~/.cache/retort)
     * @param mirror     a base URL replacing the spec's, or null
     */
    public DatasetSource(Spec spec, Path explicit, String retortData, Path cacheRoot, String mirror,
            Duration timeout, Consumer<String> log) {
        this.spec = spec;
        this.explicit = explicit;
        this.retortData = retortData == null || retortData.isBlank() ? null : retortData;
        this.cacheRoot = cacheRoot;
        this.mirror = mirror == null || mirror.isBlank() ? null : mirror;
        this.timeout = timeout;
        this.log = log;
    }

    /** The dataset of that name, looked up from this process's environment and home folder. */
    public static DatasetSource of(String name, Path explicit) {
        String mirror = System.getProperty(MIRROR_PROPERTY);
        if (mirror == null || mirror.isBlank()) {
            mirror = System.getenv(MIRROR_ENV);
        }
        return new DatasetSource(spec(name), explicit, System.getenv("RETORT_DATA"),
                Path.of(System.getProperty("user.home"), ".cache", "retort"), mirror, Duration.ofSeconds(30),
                System.err::println);
    }

    /** The dataset called {@code name} (fashion-mnist, mnist or cifar-10). */
    public static Spec spec(String name) {
        for (Spec s : KNOWN) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("dataset '" + name + "' is unknown; expected one of fashion-mnist, mnist, "
                + "cifar-10");
    }

    /** The dataset's folder in the cache, where downloads go. */
    public Path cacheFolder() {
        return cacheRoot.resolve(spec.name());
    }

    /** Folders searched, in order: {@code $RETORT_DATA/<name>}, {@code $RETORT_DATA}, the cache, the system folders. */
    public List<Path> candidates() {
        List<Path> out = new ArrayList<>();
        if (retortData != null) {
            out.add(Path.of(retortData, spec.name()));
            out.add(Path.of(retortData));
        }
        out.add(cacheFolder());
        out.addAll(spec.systemFolders());
        return out;
    }

    /** The folder actually holding the files ({@code dir} or a subfolder the format allows), or null. */
    public Path holding(Path dir) {
        if (spec.format() == Format.CIFAR_BINARY) {
            return Cifar10.holding(dir);
        }
        for (String f : new String[] {FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, FashionMnist.TEST_IMAGES,
                FashionMnist.TEST_LABELS}) {
            if (!Files.isRegularFile(dir.resolve(f)) && !Files.isRegularFile(dir.resolve(f + ".gz"))) {
                return null;
            }
        }
        return dir;
    }

    /**
     * The explicit folder if given (an error when it lacks the files: no other copy is used in its place),
     * else the first candidate holding the files, else null.
     */
    public Path findLocal() throws IOException {
        if (explicit != null) {
            Path d = holding(explicit);
            if (d == null) {
                throw new IOException("--data " + explicit + ": the " + spec.name() + " files (" + fileList()
                        + ") are not all there");
            }
            return d;
        }
        for (Path dir : candidates()) {
            Path d = holding(dir);
            if (d != null) {
                return d;
            }
        }
        return null;
    }

    /** A local copy, or else one downloaded into the cache. */
    public Path locate() throws IOException {
        Path local = findLocal();
        return local != null ? local : download();
    }

    /** Downloads the pinned files into the cache folder (skipping those already there) and returns it. */
    public Path download() throws IOException {
        Path cache = cacheFolder();
        Files.createDirectories(cache);
        for (RemoteFile f : spec.downloads()) {
            if (spec.format() == Format.IDX && Files.isRegularFile(cache.resolve(f.name()))) {
                continue;
            }
            Path file = fetch(f, cache);
            if (spec.format() == Format.CIFAR_BINARY) {
                unpack(file, cache);
            }
        }
        Path d = holding(cache);
        if (d == null) {
            throw new IOException(cache + ": the download finished but the " + spec.name() + " files (" + fileList()
                    + ") are not all there");
        }
        return d;
    }

    private List<String> urls(RemoteFile f) {
        List<String> out = new ArrayList<>();
        for (String base : mirror != null ? List.of(mirror) : spec.baseUrls()) {
            out.add(base.endsWith("/") ? base + f.name() : base + "/" + f.name());
        }
        return out;
    }

    /** Fetches one file from the first base URL that serves it with the right hash; moves it into place. */
    private Path fetch(RemoteFile f, Path cache) throws IOException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        List<String> failures = new ArrayList<>();
        boolean allUnreachable = true;
        for (String url : urls(f)) {
            Path part = Files.createTempFile(cache, "." + f.name() + ".", ".part");
            try {
                log.accept("data: downloading " + url);
                HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
                HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
                String actual;
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) {
                        allUnreachable = false;
                        failures.add(url + ": HTTP " + response.statusCode());
                        continue;
                    }
                    actual = copyHashing(body, part);
                }
                if (!actual.equals(f.sha256().toLowerCase(Locale.ROOT))) {
                    allUnreachable = false;
                    failures.add(url + ": SHA-256 mismatch, expected " + f.sha256() + ", got " + actual
                            + " (download deleted)");
                    continue;
                }
                Path target = cache.resolve(f.name());
                try {
                    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
                }
                return target;
            } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
                failures.add(url + ": " + describe(e));
            } catch (IOException e) {
                if (unreachable(e)) {
                    failures.add(url + ": " + describe(e));
                } else {
                    allUnreachable = false;
                    failures.add(url + ": " + describe(e));
                }
            } catch (IllegalArgumentException e) {
                allUnreachable = false;
                failures.add(url + ": not a valid URL (" + e.getMessage() + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(url + ": download interrupted", e);
            } finally {
                Files.deleteIfExists(part);
            }
        }
        String searched = explicit != null ? "--data " + explicit : candidates().toString();
        if (allUnreachable) {
            throw new IOException(spec.name() + " not found in " + searched + ", and the download failed (offline?): "
                    + String.join("; ", failures) + ". To fix: " + spec.installHint() + ", or pass --data DIR "
                    + "(or set RETORT_DATA) to a folder holding " + fileList());
        }
        throw new IOException(spec.name() + ": downloading " + f.name() + " failed: " + String.join("; ", failures));
    }

    private static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof UnresolvedAddressException || t instanceof HttpConnectTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return "connection refused or unreachable";
            }
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return "unknown host";
            }
            if (t instanceof HttpConnectTimeoutException) {
                return "connection timed out";
            }
        }
        return e.getClass().getSimpleName() + (e.getMessage() != null ? " " + e.getMessage() : "");
    }

    /** Copies the stream into the file and returns the SHA-256 of what was copied, lower-case hex. */
    static String copyHashing(InputStream in, Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
        byte[] buf = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Unpacks the CIFAR-10 tarball's .bin and .txt files flat into the cache, then deletes the tarball. */
    private void unpack(Path archive, Path cache) throws IOException {
        Path tmp = Files.createTempDirectory(cache, ".unpack-");
        try {
            List<Path> files = Tar.extractGzip(archive, tmp, n -> n.endsWith(".bin") || n.endsWith(".txt"));
            for (Path f : files) {
                Files.move(f, cache.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            try (var left = Files.list(tmp)) {
                for (Path p : (Iterable<Path>) left::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(tmp);
        }
        Files.deleteIfExists(archive);
    }

    private String fileList() {
        if (spec.format() == Format.CIFAR_BINARY) {
            return String.join(", ", Cifar10.TRAIN_FILES) + ", " + Cifar10.TEST_FILE;
        }
        return FashionMnist.TRAIN_IMAGES + "[.gz], " + FashionMnist.TRAIN_LABELS + "[.gz], "
                + FashionMnist.TEST_IMAGES + "[.gz], " + FashionMnist.TEST_LABELS + "[.gz]";
    }
}
