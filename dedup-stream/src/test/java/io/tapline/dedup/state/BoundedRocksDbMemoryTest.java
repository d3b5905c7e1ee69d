package io.tapline.dedup.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

class BoundedRocksDbMemoryTest {

    static {
        RocksDB.loadLibrary();
    }

    @Test
    void shouldGiveEveryStoreTheOneSharedBudgetAndSmallMemtables() {
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
        }
        assertEquals(budget, BoundedRocksDbMemory.budget(Map.of(BoundedRocksDbMemory.MAX_BYTES, "999999999")),
                "one process, one budget: the first store's configs set it");
    }
}
