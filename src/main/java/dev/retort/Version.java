package dev.retort;

/** The engine's version string, for logs and reports. */
public final class Version {
    public static final String VERSION = "0.1.0-SNAPSHOT";

    private Version() {}
}
