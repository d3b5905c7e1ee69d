package io.tapline.demo;

import java.util.Map;
import java.util.TreeMap;

/** A child for {@link ChildEnvironmentTest}: prints its {@code TAPLINE_*} variables and one that is not, then END. */
public final class PrintTaplineVariables {

    private PrintTaplineVariables() {
    }

    public static void main(String[] args) {
        for (Map.Entry<String, String> e : new TreeMap<>(System.getenv()).entrySet()) {
            if (e.getKey().startsWith("TAPLINE_") || e.getKey().equals(ChildEnvironmentTest.KEPT)) {
                System.out.println(e.getKey() + "=" + e.getValue());
            }
        }
        System.out.println("END");
    }
}
