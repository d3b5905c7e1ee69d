package io.tapline.dedup.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

class BoundedRocksDbMemoryTest {

    static {
        RocksDB.loadLibrary();
    }

    /** The block cache a table config was given; RocksJava has no getter for it, so it is read from its field. */
    private static Cache blockCache(BlockBasedTableConfig table) throws ReflectiveOperationException {
        Field f = BlockBasedTableConfig.class.getDeclaredField("blockCache");
        f.setAccessible(true);
        return (Cache) f.get(table);
    }

    @Test
    void shouldGiveEveryStoreTheOneSharedBudgetAndSmallMemtables() throws ReflectiveOperationException {
        Map<String, Object> configs = Map.of(BoundedRocksDbMemory.MAX_BYTES, Long.toString(64L << 20));
        long budget = BoundedRocksDbMemory.budget(configs);
        try (Options a = new Options().setTableFormatConfig(new BlockBasedTableConfig());
             Options b = new Options().setTableFormatConfig(new BlockBasedTableConfig())) {
            BoundedRocksDbMemory setter = new BoundedRocksDbMemory();
            setter.setConfig("dedup-signatures", a, configs);
            setter.setConfig("dedup-samples", b, Map.of(BoundedRocksDbMemory.MAX_BYTES, "999999999"));
            for (Options o : new Options[] {a, b}) {
                assertEquals(BoundedRocksDbMemory.MEMTABLE_BYTES, o.writeBufferSize());
                assertEquals(BoundedRocksDbMemory.MEMTABLES, o.maxWriteBufferNumber());
                BlockBasedTableConfig table = (BlockBasedTableConfig) o.tableFormatConfig();
                assertTrue(table.cacheIndexAndFilterBlocks(), "index and filter blocks are charged to the cache");
                assertTrue(table.cacheIndexAndFilterBlocksWithHighPriority());
            }
            // the budget is shared only if every store is given the same cache and the same memtable accounting
            Cache cache = blockCache((BlockBasedTableConfig) a.tableFormatConfig());
            assertNotNull(cache, "a block cache of the budget, not RocksDB's own per store");
            assertSame(cache, blockCache((BlockBasedTableConfig) b.tableFormatConfig()), "one block cache for every store");
            assertNotNull(a.writeBufferManager(), "memtables are charged to the cache");
            assertSame(a.writeBufferManager(), b.writeBufferManager(), "one write buffer manager for every store");
        }
        assertEquals(budget, BoundedRocksDbMemory.budget(Map.of(BoundedRocksDbMemory.MAX_BYTES, "999999999")),
                "one process, one budget: the first store's configs set it");
    }
}
