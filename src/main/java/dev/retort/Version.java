package dev.retort;

/** The engine's version string, and the commit it was built from when known, for logs and reports. */
public final class Version {
    /** The release. */
    public static final String VERSION = "0.1.0-SNAPSHOT";

    private static final String COMMIT = readCommit();

    private Version() {}

    /** The git commit of the build ({@code git describe}, "-dirty" with uncommitted changes), or null when unknown. */
    public static String commit() {
        return COMMIT;
    }

    private static String readCommit() {
        try (java.io.InputStream in = Version.class.getResourceAsStream("git-commit")) {
            if (in == null) {
                return null;
            }
            String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            return text.isEmpty() ? null : text;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
