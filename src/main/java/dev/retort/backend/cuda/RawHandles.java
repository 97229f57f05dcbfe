package dev.retort.backend.cuda;

import jcuda.driver.CUmemoryPool;
import jcuda.driver.CUstream;

/**
 * Driver handles whose raw value the JNI bridge needs: JCuda keeps {@code getNativePointer()} protected,
 * so the runtime creates its stream and pool as these subclasses, which may read their own.
 */
final class RawHandles {
    private RawHandles() {}

    static final class Stream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }

    static final class Pool extends CUmemoryPool {
        long address() {
            return getNativePointer();
        }
    }

    static long address(CUstream stream) {
        return ((Stream) stream).address();
    }

    static long address(CUmemoryPool pool) {
        return ((Pool) pool).address();
    }
}
