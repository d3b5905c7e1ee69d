package io.tapline.dedup.state;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the off-heap memory of every RocksDB store of the process together, as Kafka Streams' memory management guide
 * does: one LRU block cache of {@link #MAX_BYTES} shared by all stores, which also holds their index and filter blocks
 * and is charged for their memtables (a {@link WriteBufferManager} over the same cache, memtables taking at most half).
 *
 * <p>Without it each store instance takes its own 50 MiB block cache and up to three 16 MiB memtables: an instance of
 * this job holds four stores per partition it owns (active and standby), so 12 partitions over 2 instances with a
 * standby each would take up to 4.6 GiB off-heap, beyond any container limit the heap leaves room for.
 */
public final class BoundedRocksDbMemory implements RocksDBConfigSetter {

    /** Config key (read from the Streams configs) of the shared budget in bytes. */
    public static final String MAX_BYTES = "tapline.rocksdb.max.bytes";
    public static final long DEFAULT_MAX_BYTES = 256L << 20;
    /** Memtables flush sooner than RocksDB's 64 MiB default, so many small stores fit the shared budget. */
    static final long MEMTABLE_BYTES = 8L << 20;
    static final int MEMTABLES = 2;

    private static Cache cache;
    private static WriteBufferManager writeBuffers;
    private static long bytes;

    /** The budget the shared cache was created with (the first store's configs): one process, one budget. */
    static synchronized long budget(Map<String, Object> configs) {
        if (cache == null) {
            Object v = configs.get(MAX_BYTES);
            bytes = v == null ? DEFAULT_MAX_BYTES : Long.parseLong(v.toString());
            // High-priority pool for index and filter blocks: a tenth of the cache, kept from being evicted by data.
            cache = new LRUCache(bytes, -1, false, 0.1);
            writeBuffers = new WriteBufferManager(bytes / 2, cache);
        }
        return bytes;
    }

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        budget(configs);
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(cache);
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        options.setTableFormatConfig(table);
        options.setWriteBufferManager(writeBuffers);
        options.setWriteBufferSize(MEMTABLE_BYTES);
        options.setMaxWriteBufferNumber(MEMTABLES);
    }

    @Override
    public void close(String storeName, Options options) {
        // The cache and the write buffer manager are shared by every store of the process: they live as long as it.
    }
}
