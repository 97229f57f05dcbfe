package dev.retort.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuCachesTest {

    @TempDir
    Path folder;

    private void cache(int index, String level, String type, String size) throws Exception {
        Path entry = Files.createDirectories(folder.resolve("index" + index));
        Files.writeString(entry.resolve("level"), level + "\n");
        Files.writeString(entry.resolve("type"), type + "\n");
        Files.writeString(entry.resolve("size"), size + "\n");
    }

    @Test
    void readsTheLevelTwoCacheAmongTheOthers() throws Exception {
        cache(0, "1", "Data", "32K");
        cache(1, "1", "Instruction", "32K");
        cache(2, "2", "Unified", "1024K");
        cache(3, "3", "Unified", "32768K");
        assertEquals(1024L * 1024, CpuCaches.l2Bytes(folder));
    }

    @Test
    void fallsBackWhenNothingOrGarbageIsListed() throws Exception {
        assertEquals(CpuCaches.DEFAULT_L2_BYTES, CpuCaches.l2Bytes(folder.resolve("absent")));
        cache(0, "2", "Unified", "lots");
        assertEquals(CpuCaches.DEFAULT_L2_BYTES, CpuCaches.l2Bytes(folder));
    }

    @Test
    void parsesTheUnitsSysfsWrites() {
        assertEquals(2L * 1024 * 1024, CpuCaches.parseSize("2M"));
        assertEquals(4096, CpuCaches.parseSize("4096"));
        assertEquals(-1, CpuCaches.parseSize("-5K"));
        assertEquals(-1, CpuCaches.parseSize("99999999999K"));
    }
}
