package dev.regen.spring;

import dev.regen.InvalidConfigException;
import dev.regen.QueryPolicy;
import dev.regen.Regen;
import dev.regen.RegenCache;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.RouteRule;
import dev.regen.admin.RegenMetrics;
import dev.regen.cluster.Cluster;
import dev.regen.servlet.RegenFilter;
import dev.regen.store.KvStore;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Regen in a Spring Boot servlet app, from {@code regen.*} properties ({@link RegenProperties}).
 *
 * <p>Beans, each replaceable by the app's own:
 * <ul>
 *   <li>{@link KvStore} {@code regenStore}: from {@code regen.store}; define a {@code KvStore} bean to
 *       use another (e.g. Redis). Closed on shutdown after the filter.</li>
 *   <li>{@link RegenFilter} and its registration: {@code /*}, REQUEST and ASYNC dispatches, async
 *       supported, order {@code regen.filter-order} (right after Spring Security's chain).</li>
 *   <li>{@link RegenEngine} (owned and closed by the filter) and {@link RegenCache}.</li>
 *   <li>{@link RegenMetrics}, the filter's: bound to the app's Micrometer registry by Spring Boot, with
 *       the names {@code /_regen/metrics} serves.</li>
 * </ul>
 * Time comes from the app's {@link InstantSource} bean if it has exactly one ({@link java.time.Clock}
 * is one), else the system clock: tests move a fake clock instead of sleeping.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({Filter.class, RegenFilter.class})
@EnableConfigurationProperties(RegenProperties.class)
public class RegenAutoConfiguration {

    /** Regen on (the default). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "regen", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class Enabled {

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean(KvStore.class)
        KvStore regenStore(RegenProperties properties, ObjectProvider<InstantSource> clock) {
            return Stores.open(properties.store(), properties.memory().toBytes(), clock(clock));
        }

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        RegenFilter regenFilter(
                RegenProperties properties,
                KvStore store,
                ObjectProvider<InstantSource> clock,
                ObjectProvider<Cluster> cluster,
                Environment environment) {
            refuseRemoved(environment);
            try {
                return new RegenFilter(Regen.newBuilder()
                        .config(config(properties, environment))
                        .store(store)
                        .clock(clock(clock))
                        .cluster(cluster.getIfUnique(() -> Cluster.LOCAL))
                        .memoryBytes(properties.memory().toBytes())
                        .secret(properties.secret())
                        .webhookPath(properties.webhookPath())
                        .siteName(siteName(properties, environment))
                        .secureCookie(properties.secureCookie())
                        .origin(properties.renderUrl())
                        .connectTimeout(properties.timeouts().connect())
                        .build());
            } catch (InvalidConfigException e) {
                // what the engine calls the origin is, seen from the app, where it renders itself
                String field = e.field().equals("origin") ? "render-url" : e.field();
                throw new IllegalArgumentException("regen." + field + " " + e.reason());
            }
        }

        @Bean
        @ConditionalOnMissingBean(name = "regenFilterRegistration")
        FilterRegistrationBean<RegenFilter> regenFilterRegistration(RegenFilter filter, RegenProperties properties) {
            FilterRegistrationBean<RegenFilter> registration = new FilterRegistrationBean<>(filter);
            registration.setName("regenFilter");
            registration.setOrder(properties.filterOrder());
            registration.setAsyncSupported(true);
            // ASYNC: a request that waited for a render is answered on the dispatch that follows
            registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
            registration.addUrlPatterns("/*");
            return registration;
        }

        /** The filter's engine; the filter closes it. */
        @Bean(destroyMethod = "")
        @ConditionalOnMissingBean
        RegenEngine regenEngine(RegenFilter filter) {
            return filter.engine();
        }

        @Bean
        @ConditionalOnMissingBean
        RegenCache regenCache(RegenEngine engine) {
            return new RegenCache(engine);
        }

        /** The filter's metrics; Spring Boot binds them to the app's registry. */
        @Bean
        @ConditionalOnMissingBean
        RegenMetrics regenMetrics(RegenFilter filter) {
            return filter.metrics();
        }
    }

    /** {@code regen.enabled=false}: nothing is cached, and the app's calls to {@link RegenCache} do nothing. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "regen", name = "enabled", havingValue = "false")
    static class Disabled {
        @Bean
        @ConditionalOnMissingBean
        RegenCache regenCache() {
            return RegenCache.disabled();
        }
    }

    /** A removed property stops the app with what replaced it, rather than be silently ignored. */
    static void refuseRemoved(Environment environment) {
        RegenProperties.REMOVED.forEach((property, instead) -> {
            if (environment.containsProperty(property)) {
                throw new IllegalArgumentException(property + " was removed: " + instead);
            }
        });
    }

    static String siteName(RegenProperties p, Environment environment) {
        if (p.siteName() != null && !p.siteName().isBlank()) {
            return p.siteName().strip();
        }
        return environment.getProperty("spring.application.name", "");
    }

    static InstantSource clock(ObjectProvider<InstantSource> clock) {
        return clock.getIfUnique(InstantSource::system);
    }

    /** The engine's config; route rules get a last one that keeps the actuator endpoints out of the cache. */
    static RegenConfig config(RegenProperties p, Environment environment) {
        List<RouteRule> routes = new ArrayList<>();
        for (int i = 0; i < p.routes().size(); i++) {
            RegenProperties.Route r = p.routes().get(i);
            try {
                routes.add(new RouteRule(r.match(), r.revalidate(), r.tags(), r.cache()));
            } catch (InvalidConfigException e) {
                throw new InvalidConfigException("routes[" + i + "]." + e.field(), e.reason());
            }
        }
        String contextPath = trimSlash(environment.getProperty("server.servlet.context-path", ""));
        String actuator = trimSlash(environment.getProperty("management.endpoints.web.base-path", "/actuator"));
        if (!actuator.isEmpty()) {
            routes.add(new RouteRule(contextPath + actuator + "/**", null, List.of(), false));
        }
        return RegenConfig.builder()
                .revalidate(p.revalidate())
                .expire(p.expire())
                .routes(routes)
                .query(query(p.query()))
                .renderTimeout(p.timeouts().render())
                .lockWait(p.timeouts().lockWait())
                .bypassToken(p.bypassToken())
                .build();
    }

    private static String trimSlash(String path) {
        String p = path == null ? "" : path.strip();
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.isEmpty() || p.startsWith("/") ? p : "/" + p;
    }

    static QueryPolicy query(List<String> values) {
        if (values.size() == 1) {
            switch (values.get(0).strip().toLowerCase(Locale.ROOT)) {
                case "all" -> {
                    return QueryPolicy.ALL;
                }
                case "none" -> {
                    return QueryPolicy.NONE;
                }
                case "ignore-tracking" -> {
                    return QueryPolicy.IGNORE_TRACKING;
                }
                default -> {}
            }
        }
        List<String> names =
                values.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        return QueryPolicy.allowOnly(names);
    }
}
