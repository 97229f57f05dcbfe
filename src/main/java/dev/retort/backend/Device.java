package dev.retort.backend;

/** Where a tensor's storage lives. */
public enum Device {
    /** Host memory, computed on by the pure-Java CPU backend; always available. */
    CPU("cpu"),
    /**
     * NVIDIA GPU memory, computed on by the CUDA backend; available only where a driver and device are found.
     */
    CUDA("cuda");

    private final String label;

    Device(String label) {
        this.label = label;
    }

    /** Parses "cpu" or "cuda" as users type them on the command line. */
    public static Device parse(String name) {
        for (Device d : values()) {
            if (d.label.equalsIgnoreCase(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "': expected cpu or cuda");
    }

    @Override
    public String toString() {
        return label;
    }
}
