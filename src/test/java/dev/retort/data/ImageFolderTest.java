package dev.retort.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.testing.BadImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading one image file: a size claimed by the header is checked before decoding, and a bad file is named. */
class ImageFolderTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] content) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, content);
        return file;
    }

    private static String refusal(Path file) {
        String message = assertThrows(IOException.class, () -> ImageFolder.read(file)).getMessage();
        assertTrue(message.startsWith(file + ": "), message);
        return message;
    }

    @Test
    void readsPngAndJpeg() throws IOException {
        for (String format : new String[] {"png", "jpg"}) {
            ImageFolder.Image image = ImageFolder.read(write("ok." + format, BadImages.encoded(format, 24, 16)));
            assertEquals(24, image.width());
            assertEquals(16, image.height());
            assertEquals(24 * 16, image.rgb().length);
        }
    }

    @Test
    void aHeaderClaimingMoreThanTheCapIsRefusedBeforeDecoding() throws IOException {
        String huge = refusal(write("huge.png", BadImages.pngClaiming(60000, 60000)));
        assertTrue(huge.contains("its header claims 60000 × 60000 pixels; an image may have at most 67108864 "
                + "pixels (8192 × 8192)"), huge);
        // Just over the cap, and small enough that a decoder would allocate it and fail on the missing rows.
        String over = refusal(write("over.png", BadImages.pngClaiming(8193, 8192)));
        assertTrue(over.contains("its header claims 8193 × 8192 pixels"), over);
    }

    @Test
    void aPngCutShortIsCalledTruncatedWhereverTheCutFallsInItsData() throws IOException {
        byte[] png = BadImages.encoded("png", 24, 16);
        // Past the 8-byte signature and before the last 20 bytes: the zlib checksum, the IDAT chunk's CRC and the
        // IEND chunk, which hold no pixels (cut there, the image reads whole, as it does in other decoders).
        for (int cut = 9; cut < png.length - 20; cut += 3) {
            String message = refusal(write("cut.png", Arrays.copyOf(png, cut)));
            assertTrue(message.contains("truncated: the PNG image ends before its data does"), cut + ": " + message);
        }
    }

    @Test
    void aJpegCutShortIsCalledTruncatedNotDecodedWithItsMissingPartGrey() throws IOException {
        byte[] jpeg = BadImages.encoded("jpg", 24, 16);
        for (int cut = 2; cut < jpeg.length - 2; cut += 5) {
            String message = refusal(write("cut.jpg", Arrays.copyOf(jpeg, cut)));
            assertTrue(message.contains("truncated: the JPEG image ends before its data does"), cut + ": " + message);
        }
    }

    @Test
    void aCorruptJpegIsNamedWithTheDecodersReason() throws IOException {
        String message = refusal(write("corrupt.jpg", BadImages.corruptJpeg()));
        assertTrue(message.contains("a corrupt JPEG image (the decoder says: Bogus DQT index 15)"), message);
    }

    @Test
    void aFileOfNoImageFormatIsNamed() throws IOException {
        String message = refusal(write("text.png", "not an image".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(message.contains("not a PNG or JPEG image"), message);
    }
}
