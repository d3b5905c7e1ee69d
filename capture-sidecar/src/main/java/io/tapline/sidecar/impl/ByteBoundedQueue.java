package io.tapline.sidecar.impl;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A queue bounded by the sum of its items' sizes in bytes. {@link #offer} never blocks: it refuses an item
 * that would push the total over the bound. One consumer drains it with {@link #poll(long, TimeUnit)}.
 * Producers never wake the consumer (no signal, so no system call on the producer's thread, which is an event
 * loop); the consumer polls with short parks instead: {@link #IDLE_PARK_NANOS} while items flow, doubling up to
 * {@link #MAX_IDLE_PARK_NANOS} while the queue stays empty, so an idle sidecar wakes ~100 times a second, not
 * 1,000, and an item waits at most that long (less than the capture grace period it waits out anyway).
 */
public final class ByteBoundedQueue<T> {

    private record Entry<T>(T item, long bytes) {
    }

    private final long maxBytes;
    private final ArrayDeque<Entry<T>> items = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    /** How long a consumer sleeps between looks at an empty queue, at first. */
    static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** The longest it sleeps once the queue has stayed empty. */
    static final long MAX_IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** The consumer's current sleep; only the consumer thread uses it. */
    private long idleParkNanos = IDLE_PARK_NANOS;
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
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Takes the oldest item, waiting up to the timeout; null when none arrived. */
    public T poll(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (true) {
            T item = pollNow();
            if (item != null) {
                idleParkNanos = IDLE_PARK_NANOS;
                return item;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            LockSupport.parkNanos(Math.min(left, idleParkNanos));
            idleParkNanos = Math.min(idleParkNanos * 2, MAX_IDLE_PARK_NANOS);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /** How long the consumer's next look at an empty queue sleeps. */
    long idleParkNanos() {
        return idleParkNanos;
    }

    /** The oldest item without removing it, or null. */
    public T peek() {
        lock.lock();
        try {
            Entry<T> e = items.peekFirst();
            return e == null ? null : e.item();
        } finally {
            lock.unlock();
        }
    }

    private T pollNow() {
        lock.lock();
        try {
            Entry<T> e = items.pollFirst();
            if (e == null) {
                return null;
            }
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
