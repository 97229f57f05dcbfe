package dev.retort.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.ConvSpec;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Storage;
import dev.retort.testing.TestData;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Ownership of tensor memory: scopes close what they created, keep() hands over, nothing leaks. */
class ScopeTest {

    @Test
    void tensorsCreatedInAScopeAreClosedAtItsEnd() {
        Tensor outside = Tensor.of(new double[] {1, 2}, 2);
        Tensor inside;
        Tensor derived;
        try (Scope scope = Scope.open()) {
            inside = Tensor.of(new double[] {3, 4}, 2);
            derived = inside.add(outside);
            assertFalse(inside.isClosed());
        }
        assertTrue(inside.isClosed());
        assertTrue(derived.isClosed());
        assertFalse(outside.isClosed(), "a tensor created outside the scope is not the scope's");
        outside.close();
        assertTrue(outside.isClosed());
        outside.close(); // idempotent
    }

    @Test
    void keepMovesATensorToTheParentScope() {
        Tensor kept;
        Tensor dropped;
        try (Scope outer = Scope.open()) {
            try (Scope inner = Scope.open()) {
                kept = inner.keep(Tensor.of(new double[] {1}, 1));
                dropped = Tensor.of(new double[] {2}, 1);
            }
            assertFalse(kept.isClosed(), "kept for the outer scope");
            assertTrue(dropped.isClosed());
            assertEquals(1.0, kept.item());
        }
        assertTrue(kept.isClosed(), "the outer scope closes what it was handed");
    }

    @Test
    void keepFromTheOutermostScopeHandsTheTensorToTheCaller() {
        Tensor t;
        try (Scope scope = Scope.open()) {
            t = scope.keep(Tensor.of(new double[] {5}, 1));
        }
        assertFalse(t.isClosed());
        assertEquals(5.0, t.item());
        t.close();
    }

    @Test
    void nestedScopesCloseInnermostFirstAndOnlyTheirOwn() {
        try (Scope outer = Scope.open()) {
            Tensor a = Tensor.of(new double[] {1}, 1);
            Tensor b;
            try (Scope inner = Scope.open()) {
                b = Tensor.of(new double[] {2}, 1);
                Tensor c = a.add(b);
                assertEquals(3.0, c.item());
            }
            assertTrue(b.isClosed());
            assertFalse(a.isClosed());
        }
    }

    @Test
    void scopesMustCloseInReverseOrder() {
        Scope outer = Scope.open();
        Scope inner = Scope.open();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("reverse order"), e.getMessage());
        inner.close();
        outer.close();
        outer.close(); // idempotent
    }

    @Test
    void usingAClosedTensorThrowsAndMentionsScopes() {
        Tensor t;
        try (Scope scope = Scope.open()) {
            t = Tensor.of(new double[] {1, 2}, 2);
        }
        for (Runnable use : List.<Runnable>of(t::shape, t::toDoubleArray, () -> t.add(1.0), t::item,
                () -> t.requiresGrad(true))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, use::run);
            assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("Scope.keep"), e.getMessage());
        }
        assertEquals("Tensor(closed)", t.toString());
    }

    @Test
    void aViewKeepsTheStorageAliveUntilItsLastOwnerCloses() {
        long before = Storage.liveCount() + Storage.leakedCount();
        Tensor base = Tensor.of(new double[] {1, 2, 3, 4}, 4);
        Tensor view = base.reshape(2, 2);
        assertEquals(before + 1, Storage.liveCount() + Storage.leakedCount(), "a reshape shares the storage");
        base.close();
        assertEquals(4.0, view.toDoubleArray()[3]);
        view.close();
        assertEquals(before, Storage.liveCount() + Storage.leakedCount());
    }

    /** A small conv net's forward and backward, all temporaries inside a scope. */
    private static void convNetStep(List<Tensor> params, Tensor runningMean, Tensor runningVar) {
        Random r = new Random(1);
        try (Scope step = Scope.open()) {
            Tensor x = Tensor.of(TestData.uniform(r, 2 * 1 * 8 * 8, -1, 1), 2, 1, 8, 8).to(dev.retort.backend.DType.FLOAT32);
            Tensor labels = Tensor.ofInts(new int[] {1, 3}, 2);
            Tensor h = Functional.conv2d(x, params.get(0), params.get(1), new ConvSpec(1, 1, 1, 1));
            h = Functional.batchNorm(h, params.get(2), params.get(3), runningMean, runningVar, true, 0.1, 1e-5).relu();
            h = Functional.maxPool2d(h, new PoolSpec(2, 2, 2, 2, 0, 0));
            h = Functional.dropout(h, 0.25, true, 7).flatten(1);
            Tensor logits = Functional.linear(h, params.get(4), params.get(5));
            Tensor teacher;
            try (Autograd.NoGrad off = Autograd.noGrad()) {
                teacher = logits.detach().mul(0.5);
            }
            Tensor loss = Losses.crossEntropy(logits, labels, 0.1).mul(0.3)
                    .add(Losses.klDiv(logits, teacher, 4, 4).mul(0.7 * 16));
            loss.backward();
        }
        for (Tensor p : params) {
            assertNotNull(p.grad(), "every parameter got a gradient");
        }
    }

    private static List<Tensor> convNetParams() {
        Random r = new Random(2);
        return List.of(
                float32Leaf(r, 4, 1, 3, 3), float32Leaf(r, 4), float32Leaf(r, 4), float32Leaf(r, 4),
                float32Leaf(r, 5, 4 * 4 * 4), float32Leaf(r, 5));
    }

    private static Tensor float32Leaf(Random r, int... shape) {
        return Tensor.of(TestData.toFloats(TestData.uniform(r, dev.retort.backend.Shapes.size(shape), -0.5, 0.5)),
                shape).requiresGrad(true);
    }

    @Test
    void liveStorageReturnsToItsBaselineAfterForwardAndBackward() {
        // live + leaked is unchanged by the Cleaner reclaiming other tests' garbage meanwhile.
        long baseline = Storage.liveCount() + Storage.leakedCount();
        List<Tensor> params = convNetParams();
        Tensor runningMean = Tensor.zeros(4);
        Tensor runningVar = Tensor.ones(4);
        for (int i = 0; i < 3; i++) {
            convNetStep(params, runningMean, runningVar);
        }
        assertEquals(baseline + params.size() * 2 + 2, Storage.liveCount() + Storage.leakedCount(),
                "only the parameters, their gradients and the running statistics stay alive");
        for (Tensor p : params) {
            p.close();
            assertSame(null, p.grad(), "closing a leaf releases its gradient");
        }
        runningMean.close();
        runningVar.close();
        assertEquals(baseline, Storage.liveCount() + Storage.leakedCount());
    }

    @Test
    void theGarbageCollectorReclaimsNothingFromAScopedWorkload() throws InterruptedException {
        settle();
        long leakedBefore = Storage.leakedCount();
        List<Tensor> params = convNetParams();
        Tensor runningMean = Tensor.zeros(4);
        Tensor runningVar = Tensor.ones(4);
        for (int i = 0; i < 3; i++) {
            convNetStep(params, runningMean, runningVar);
        }
        params.forEach(Tensor::close);
        runningMean.close();
        runningVar.close();
        params = null;
        settle();
        assertEquals(leakedBefore, Storage.leakedCount(), "storage reclaimed by the Cleaner instead of closed");
    }

    /** Runs the GC and waits (about 200 ms at least) until the Cleaner has stopped reclaiming blocks. */
    private static void settle() throws InterruptedException {
        long last = -1;
        int stable = 0;
        for (int i = 0; i < 40 && stable < 4; i++) {
            System.gc();
            Thread.sleep(50);
            long now = Storage.leakedCount();
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
    }
}
