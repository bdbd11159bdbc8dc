package dev.regen.it.frameworks;

import dev.regen.testing.Ports;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests the running fixture apps ({@link ExpressApp}, {@link AstroApp}, {@link NextApp} v1) as
 * parameters: each is installed, built and started once per test run, on first use, and stopped (with its
 * whole process tree) when the run ends, since JUnit closes what the root store holds.
 */
final class FrameworkApps implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(FrameworkApps.class);
    private static final Map<Class<?>, Supplier<AutoCloseable>> APPS = Map.of(
            ExpressApp.class, ExpressApp::start,
            AstroApp.class, AstroApp::start,
            NextApp.class, () -> NextApp.start(NextApp.V1, Ports.freePort()));

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return APPS.containsKey(parameter.getParameter().getType());
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return context.getRoot()
                .getStore(NAMESPACE)
                .getOrComputeIfAbsent(type, t -> APPS.get(t).get());
    }
}
