package dev.retort.testing;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Image files, good and hostile, as bytes: a real PNG or JPEG, one cut short, a corrupt JPEG, an absurd header. */
public final class BadImages {
    private BadImages() {}

    /** A real image in {@code format} (png or jpg), {@code width} × {@code height} pixels of seeded colour noise. */
    public static byte[] encoded(String format, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        SplittableRandom rng = new SplittableRandom(7);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, rng.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, format, bytes)) {
                throw new IllegalArgumentException("ImageIO cannot write " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The first half of a real image in {@code format}: a file cut short in its pixel data. */
    public static byte[] cutInHalf(String format) {
        byte[] whole = encoded(format, 24, 16);
        return Arrays.copyOf(whole, whole.length / 2);
    }

    /**
     * A well-formed PNG whose header claims {@code width} × {@code height} grey pixels, with one byte of data: what
     * a decoder would try to allocate the whole of.
     */
    public static byte[] pngClaiming(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put(new byte[] {8, 0, 0, 0, 0});
        ByteBuffer out = ByteBuffer.allocate(8 + 25 + 21 + 12);
        out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x63, 0, 0, 0, 1, 0, 1}); // zlib of one zero byte
        chunk(out, "IEND", new byte[0]);
        return out.array();
    }

    private static void chunk(ByteBuffer out, String type, byte[] data) {
        byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(data);
        out.putInt(data.length).put(name).put(data).putInt((int) crc.getValue());
    }

    /** A real JPEG whose first quantisation table claims index 15 (a JPEG has four): its decoder refuses it. */
    public static byte[] corruptJpeg() {
        byte[] jpeg = encoded("jpg", 24, 16);
        for (int i = 2; i + 4 < jpeg.length; i++) {
            if ((jpeg[i] & 0xff) == 0xff && (jpeg[i + 1] & 0xff) == 0xdb) { // DQT: marker, 2-byte length, Pq|Tq
                jpeg[i + 4] = 0x0f;
                return jpeg;
            }
        }
        throw new IllegalStateException("no DQT marker in the JPEG");
    }
}
