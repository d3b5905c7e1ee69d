package io.tapline.stack.junit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the JVM-wide {@link TestStack}: one Kafka broker and one schema registry per test JVM,
 * each started on first use, stopped when the root extension context closes (the end of the test
 * run) and, as a last resort, killed by a JVM shutdown hook or by a watchdog when the JVM dies.
 *
 * <pre>{@code
 * @ExtendWith(TaplineStackExtension.class)
 * class SomethingIT {
 *   @Test void works(TestStack stack) { ... stack.bootstrapServers() ... }
 * }
 * }</pre>
 */
public final class TaplineStackExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TaplineStackExtension.class);
    private static final String KEY = "stack";

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == TestStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext)
            throws ParameterResolutionException {
        // The root store lives until the end of the test run and closes its AutoCloseable values then.
        return extensionContext.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(KEY, key -> SharedStack.instance(), SharedStack.class);
    }
}
