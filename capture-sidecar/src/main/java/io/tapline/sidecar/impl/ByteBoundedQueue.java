package io.tapline.sidecar.impl;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A queue bounded by the sum of its items' sizes in bytes. {@link #offer} never blocks: it refuses an item
 * that would push the total over the bound. One consumer drains it with {@link #poll(long, TimeUnit)}.
 */
public final class ByteBoundedQueue<T> {

    private record Entry<T>(T item, long bytes) {
    }

    private final long maxBytes;
    private final ArrayDeque<Entry<T>> items = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private long bytes;

    public ByteBoundedQueue(long maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("queue bound must be > 0 bytes, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /** Adds the item unless that would exceed the byte bound; never blocks beyond the short internal lock. */
    public boolean offer(T item, long itemBytes) {
        lock.lock();
        try {
            if (bytes + itemBytes > maxBytes) {
                return false;
            }
            items.addLast(new Entry<>(item, itemBytes));
            bytes += itemBytes;
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Takes the oldest item, waiting up to the timeout; null when none arrived. */
    public T poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (items.isEmpty()) {
                if (nanos <= 0) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            Entry<T> e = items.removeFirst();
            bytes -= e.bytes();
            return e.item();
        } finally {
            lock.unlock();
        }
    }

    public long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }

    public long maxBytes() {
        return maxBytes;
    }
}
