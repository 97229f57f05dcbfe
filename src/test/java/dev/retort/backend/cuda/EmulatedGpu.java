package dev.retort.backend.cuda;

import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The kernels of kernels/*.cu compiled for the CPU by g++ with kernels/emulator/cuda_emulator.h and run in a
 * child process (kernel_runner): a stand-in GPU for machines without one. Launches go through the same
 * plan classes and {@link KernelArgs} as on a real GPU, and the runner checks every parameter's C type
 * against the kernel's signature. Built with AddressSanitizer when g++ has it, so a kernel reading or writing
 * outside its arrays fails the test.
 */
final class EmulatedGpu implements KernelTestDevice, KernelLauncher {
    private static final Path SOURCES = Paths.get("kernels");
    private static final Path BINARY = Paths.get("target", "kernel-emulator", "kernel_runner");

    private final Process process;
    private final OutputStream out;
    private final DataInputStream in;
    private final CudaKernels kernels;
    private final List<Launch> launches = new ArrayList<>();

    private EmulatedGpu(Process process) {
        this.process = process;
        this.out = process.getOutputStream();
        this.in = new DataInputStream(process.getInputStream());
        this.kernels = new CudaKernels(this);
    }

    /** Why the emulator cannot run here, or null when it can (g++ present, sources found). */
    static String unavailableReason() {
        if (!Files.isRegularFile(SOURCES.resolve("emulator/kernel_runner.cpp"))) {
            return "kernels/emulator/kernel_runner.cpp not found from " + Paths.get("").toAbsolutePath();
        }
        try {
            Process p = new ProcessBuilder("g++", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0 ? null : "g++ --version failed";
        } catch (IOException | InterruptedException e) {
            return "no g++ to build the kernel emulator: " + e.getMessage();
        }
    }

    static EmulatedGpu start() {
        try {
            build();
            ProcessBuilder pb = new ProcessBuilder(BINARY.toAbsolutePath().toString());
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            // AddressSanitizer: fail on the first error, and do not look for leaks of the "device" memory.
            pb.environment().put("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:halt_on_error=1");
            return new EmulatedGpu(pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compiles the runner when it is missing or older than any kernel source. */
    private static synchronized void build() throws IOException {
        long newest = 0;
        try (var files = Files.walk(SOURCES)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.endsWith(".cu") || name.endsWith(".cuh") || name.endsWith(".h") || name.endsWith(".cpp")) {
                    newest = Math.max(newest, Files.getLastModifiedTime(p).toMillis());
                }
            }
        }
        if (Files.isExecutable(BINARY) && Files.getLastModifiedTime(BINARY).toMillis() > newest) {
            return;
        }
        Files.createDirectories(BINARY.getParent());
        // The kernel list both emulators include, made from the sources by the one script that lists them.
        run(List.of("bash", SOURCES.resolve("emulator/kernel-list.sh").toString(),
                BINARY.getParent().resolve("kernels.inc").toString()), "listing the kernels for the emulator");
        List<String> command = new ArrayList<>(List.of("g++", "-std=c++17", "-O1", "-ffp-contract=off",
                "-Wno-unknown-pragmas", "-I", SOURCES.toString(), "-I", BINARY.getParent().toString()));
        if (hasAddressSanitizer()) {
            command.add("-fsanitize=address");
        }
        command.addAll(List.of(SOURCES.resolve("emulator/kernel_runner.cpp").toString(), "-o", BINARY.toString()));
        run(command, "building the kernel emulator");
    }

    /** Runs {@code command} to its end, failing with its output when it fails. */
    private static void run(List<String> command, String what) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IllegalStateException(what + " failed:\n" + String.join(" ", command) + "\n" + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean hasAddressSanitizer() throws IOException {
        Path dir = Files.createTempDirectory("asan");
        try {
            Path src = dir.resolve("a.cpp");
            Files.writeString(src, "int main() { return 0; }\n");
            Process p = new ProcessBuilder("g++", "-fsanitize=address", src.toString(), "-o",
                    dir.resolve("a").toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            for (File f : dir.toFile().listFiles()) {
                f.delete();
            }
            dir.toFile().delete();
        }
    }

    @Override
    public CudaKernels kernels() {
        return kernels;
    }

    /** Every launch so far, for tests that check which kernel ran. */
    List<Launch> launches() {
        return launches;
    }

    @Override
    public synchronized long allocate(long bytes) {
        send(ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).put((byte) 'A').putLong(bytes));
        return readLong();
    }

    @Override
    public synchronized void write(long address, byte[] bytes) {
        ByteBuffer b = ByteBuffer.allocate(17 + bytes.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'W').putLong(address).putLong(bytes.length).put(bytes);
        send(b);
        status("write");
    }

    @Override
    public synchronized byte[] read(long address, int bytes) {
        send(ByteBuffer.allocate(17).order(ByteOrder.LITTLE_ENDIAN).put((byte) 'R').putLong(address).putLong(bytes));
        byte[] data = new byte[bytes];
        try {
            in.readFully(data);
        } catch (IOException e) {
            throw died(e);
        }
        return data;
    }

    @Override
    public synchronized void launch(Launch launch) {
        launches.add(launch);
        byte[] name = launch.kernel().getBytes(StandardCharsets.UTF_8);
        int size = 1 + 4 + name.length + 16;
        for (KernelArgs.Arg a : launch.args().list()) {
            size += 8 + a.byteSize();
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'L').putInt(name.length).put(name).putInt(launch.gridX()).putInt(launch.blockX())
                .putInt(launch.blockY()).putInt(launch.args().size());
        for (KernelArgs.Arg a : launch.args().list()) {
            b.putInt(a.kind().ordinal()).putInt(a.byteSize());
            switch (a.kind()) {
                case POINTER, LONG_LONG, DOUBLE -> b.putLong(a.bits());
                case INT, FLOAT -> b.putInt((int) a.bits());
                case STRUCT -> {
                    for (int v : a.ints()) {
                        b.putInt(v);
                    }
                }
            }
        }
        send(b);
        status(launch.toString());
    }

    @Override
    public void synchronize() {
        // launches complete before the runner answers
    }

    @Override
    public String describe() {
        return "kernel emulator (kernels/*.cu compiled by g++)";
    }

    @Override
    public synchronized void close() {
        try {
            out.write('Q');
            out.flush();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroy();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
        }
    }

    private void send(ByteBuffer b) {
        try {
            out.write(b.array(), 0, b.position());
            out.flush();
        } catch (IOException e) {
            throw died(e);
        }
    }

    private long readLong() {
        try {
            byte[] b = new byte[8];
            in.readFully(b);
            return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        } catch (IOException e) {
            throw died(e);
        }
    }

    private void status(String what) {
        try {
            byte[] b = new byte[4];
            in.readFully(b);
            int status = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (status != 0) {
                in.readFully(b);
                byte[] message = new byte[ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt()];
                in.readFully(message);
                throw new IllegalStateException("emulator: " + what + ": " + new String(message, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw died(e);
        }
    }

    private IllegalStateException died(IOException e) {
        String exit = process.isAlive() ? "" : " (exit status " + process.exitValue() + "; AddressSanitizer's report, if "
                + "any, is on stderr)";
        return new IllegalStateException("the kernel emulator stopped answering" + exit, e);
    }
}
