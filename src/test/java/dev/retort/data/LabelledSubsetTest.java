package dev.retort.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@code --labelled N}: which labels a run keeps, and the labels-only training set built from them. */
class LabelledSubsetTest {
    /** 100 examples, 10 per class of 4 classes... unevenly: class c has 10 + 10·c examples (10, 20, 30, 40). */
    private static Dataset data() {
        int n = 100;
        int[] labels = new int[n];
        float[] images = new float[n];
        for (int i = 0, c = 0, left = 10; i < n; i++) {
            labels[i] = c;
            images[i] = i;
            if (--left == 0) {
                c++;
                left = 10 + 10 * c;
            }
        }
        return new Dataset("toy", images, labels, 1, 1, 1, 4);
    }

    private static int[] perClass(Dataset d) {
        int[] counts = new int[d.classes()];
        for (int y : d.labels()) {
            if (y != Dataset.UNLABELLED) {
                counts[y]++;
            }
        }
        return counts;
    }

    @Test
    void keepsAnEvenShareOfLabelsPerClassAndEveryImage() {
        Dataset kept = data().keepLabels(10, 7);
        assertEquals(100, kept.size(), "every image stays, for the soft targets");
        assertEquals(10, kept.labelledCount());
        assertArrayEquals(new int[] {3, 3, 2, 2}, perClass(kept), "10 over 4 classes: the first two get one more");
        for (int i = 0; i < 100; i++) {
            int y = kept.labels()[i];
            assertTrue(y == Dataset.UNLABELLED || y == data().labels()[i], "a kept label is the true one");
        }
    }

    @Test
    void theChoiceFollowsTheSeed() {
        assertArrayEquals(data().keepLabels(12, 3).labels(), data().keepLabels(12, 3).labels());
        assertNotEquals(Arrays.toString(data().keepLabels(12, 3).labels()),
                Arrays.toString(data().keepLabels(12, 4).labels()));
    }

    @Test
    void labelledOnlyRepeatedGivesTheLabelledImagesAtTheTransferSetsSize() {
        Dataset kept = data().keepLabels(8, 1);
        Dataset only = kept.labelledOnly();
        assertEquals(8, only.size());
        assertEquals(8, only.labelledCount());
        Dataset repeated = only.repeat(100);
        assertEquals(100, repeated.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(only.labels()[i % 8], repeated.labels()[i]);
            assertEquals(only.images()[i % 8], repeated.images()[i]);
        }
    }

    @Test
    void badCountsNameTheOption() {
        String zero = assertThrows(IllegalArgumentException.class, () -> data().keepLabels(0, 1)).getMessage();
        assertTrue(zero.contains("--labelled") && zero.contains("positive"), zero);
        String large = assertThrows(IllegalArgumentException.class, () -> data().keepLabels(101, 1)).getMessage();
        assertTrue(large.contains("--labelled 101") && large.contains("only 100"), large);
    }

    @Test
    void aClassWithTooFewImagesGivesAllItHasAndTheOthersShareTheRest() {
        Dataset kept = data().keepLabels(80, 1);
        assertArrayEquals(new int[] {10, 20, 25, 25}, perClass(kept), "classes 0 and 1 give all they have");
        assertEquals(100, data().keepLabels(100, 1).labelledCount());
    }
}
