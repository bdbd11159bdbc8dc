package dev.regen.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.QueryPolicy;
import dev.regen.RegenCache;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.RouteRule;
import dev.regen.admin.AdminApi;
import dev.regen.admin.RegenMetrics;
import dev.regen.servlet.RegenFilter;
import dev.regen.store.KvStore;
import dev.regen.store.MemoryStore;
import dev.regen.store.embedded.EmbeddedStore;
import dev.regen.testing.FakeClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.DispatcherType;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.test.util.ReflectionTestUtils;

class RegenAutoConfigurationTest {
    private final WebApplicationContextRunner runner =
            new WebApplicationContextRunner().withConfiguration(AutoConfigurations.of(RegenAutoConfiguration.class));

    @Test
    void defaults_registerFilterEngineCacheAndMemoryStore() {
        runner.run(ctx -> {
            assertThat(ctx)
                    .hasSingleBean(RegenFilter.class)
                    .hasSingleBean(RegenEngine.class)
                    .hasSingleBean(RegenCache.class)
                    .hasSingleBean(RegenMetrics.class);
            assertThat(ctx.getBean(KvStore.class)).isInstanceOf(MemoryStore.class);
            RegenConfig config = ctx.getBean(RegenEngine.class).config();
            assertThat(config.revalidate()).isEqualTo(Duration.ofSeconds(60));
            assertThat(config.expire()).isNull();
            assertThat(config.query()).isEqualTo(QueryPolicy.IGNORE_TRACKING);
            assertThat(config.renderTimeout()).isEqualTo(Duration.ofSeconds(30));
            // the actuator stays out of the cache
            assertThat(config.routeFor("/actuator/health").cache()).isFalse();
            assertThat(config.routeFor("/posts/1")).isNull();
            assertThat(ctx.getBean(RegenFilter.class).engine()).isSameAs(ctx.getBean(RegenEngine.class));
            AdminApi api = ctx.getBean(RegenFilter.class).adminApi();
            assertThat(api.webhookPath()).isEqualTo("/_regen/revalidate");
            assertThat(api.secureCookie()).isFalse();
        });
    }

    @Test
    void siteNameAndSecureCookie_reachTheDashboard() {
        runner.withPropertyValues("spring.application.name=blog").run(ctx -> {
            assertThat(ctx.getBean(RegenFilter.class).adminApi().siteName()).isEqualTo("blog");
        });
        runner.withPropertyValues(
                        "spring.application.name=blog",
                        "regen.site-name=www.example.com",
                        "regen.secure-cookie=true",
                        "regen.webhook-path=/api/revalidate")
                .run(ctx -> {
                    AdminApi api = ctx.getBean(RegenFilter.class).adminApi();
                    assertThat(api.siteName()).isEqualTo("www.example.com");
                    assertThat(api.secureCookie()).isTrue();
                    assertThat(api.webhookPath()).isEqualTo("/api/revalidate");
                });
    }

    @Test
    void removedProperties_failNamingWhatReplacedThem() {
        runner.withPropertyValues("regen.host=www.example.com")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("regen.host was removed")
                        .hasMessageContaining("regen.site-name"));
        runner.withPropertyValues("regen.scheme=https")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("regen.scheme was removed")
                        .hasMessageContaining("regen.secure-cookie=true"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void registration_allPathsRequestAndAsyncAfterSpringSecurity() {
        runner.run(ctx -> {
            FilterRegistrationBean<RegenFilter> r =
                    ctx.getBean("regenFilterRegistration", FilterRegistrationBean.class);
            assertThat(r.getFilter()).isSameAs(ctx.getBean(RegenFilter.class));
            assertThat(r.getUrlPatterns()).containsExactly("/*");
            assertThat(r.isAsyncSupported()).isTrue();
            assertThat(r.getOrder()).isEqualTo(-90).isGreaterThan(-100);
            assertThat((Set<DispatcherType>) ReflectionTestUtils.getField(r, "dispatcherTypes"))
                    .containsExactlyInAnyOrder(DispatcherType.REQUEST, DispatcherType.ASYNC);
        });
    }

    @Test
    void properties_bareNumbersAreSecondsAndRoutesBind() {
        runner.withPropertyValues(
                        "regen.revalidate=10",
                        "regen.expire=3600",
                        "regen.routes[0].match=/blog/**",
                        "regen.routes[0].revalidate=300",
                        "regen.routes[0].tags=blog,posts",
                        "regen.routes[1].match=/account/**",
                        "regen.routes[1].cache=false",
                        "regen.timeouts.render=5",
                        "regen.query=page,sort",
                        "regen.bypass-token=preview",
                        "management.endpoints.web.base-path=/manage")
                .run(ctx -> {
                    RegenConfig config = ctx.getBean(RegenEngine.class).config();
                    assertThat(config.revalidate()).isEqualTo(Duration.ofSeconds(10));
                    assertThat(config.expire()).isEqualTo(Duration.ofHours(1));
                    assertThat(config.renderTimeout()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(config.bypassToken()).isEqualTo("preview");
                    assertThat(config.query()).isEqualTo(QueryPolicy.allowOnly(List.of("page", "sort")));
                    RouteRule blog = config.routeFor("/blog/a");
                    assertThat(blog.revalidate()).isEqualTo(Duration.ofMinutes(5));
                    assertThat(blog.tags()).containsExactly("blog", "posts");
                    assertThat(config.routeFor("/account/me").cache()).isFalse();
                    assertThat(config.routeFor("/manage/health").cache()).isFalse();
                    assertThat(config.routeFor("/actuator/health")).isNull();
                });
    }

    @Test
    void disabled_noFilterButANoOpCache() {
        runner.withPropertyValues("regen.enabled=false").run(ctx -> {
            assertThat(ctx)
                    .doesNotHaveBean(RegenFilter.class)
                    .doesNotHaveBean(KvStore.class)
                    .doesNotHaveBean(RegenEngine.class);
            assertThat(ctx.getBean(RegenCache.class).revalidateTag("posts")).isZero();
        });
    }

    @Test
    void store_embedded_opensTheEmbeddedStoreInDir(@TempDir Path dir) {
        runner.withPropertyValues("regen.store=embedded:" + dir).run(ctx -> {
            assertThat(ctx.getBean(KvStore.class)).isInstanceOf(EmbeddedStore.class);
            assertThat(dir.resolve(EmbeddedStore.FILE_NAME)).exists();
        });
    }

    @Test
    void store_embeddedWithMaxSize_keepsTheStoreUnderIt(@TempDir Path dir) {
        runner.withPropertyValues("regen.store=embedded:" + dir + "?max-size=64MB")
                .run(ctx -> {
                    assertThat(((EmbeddedStore) ctx.getBean(KvStore.class)).maxBytes())
                            .isEqualTo(64L * 1024 * 1024);
                });
        runner.withPropertyValues("regen.store=embedded:" + dir + "?max-size=lots")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("max-size must be a size like 500MB"));
    }

    @Test
    void store_unknown_failsNamingTheProperty() {
        runner.withPropertyValues("regen.store=cassandra://x")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("regen.store must be memory or embedded:DIR"));
        runner.withPropertyValues("regen.store=redis://127.0.0.1:6379")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("define a dev.regen.store.KvStore bean"));
    }

    @Test
    void badValues_failNamingTheProperty() {
        runner.withPropertyValues("regen.revalidate=-5")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("regen.revalidate must be positive"));
        runner.withPropertyValues("regen.routes[0].match=blog")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("regen.routes[0].match must start with /"));
        runner.withPropertyValues("regen.webhook-path=hook")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("regen.webhook-path must start with /"));
        runner.withPropertyValues("regen.render-url=http://127.0.0.1:8080/app")
                .run(ctx -> assertThat(ctx)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("regen.render-url must be just scheme, host and port"));
    }

    @Test
    void appBeans_storeAndClockAreUsed() {
        runner.withUserConfiguration(AppBeans.class).run(ctx -> {
            assertThat(ctx.getBean(KvStore.class)).isSameAs(AppBeans.STORE);
            assertThat(ctx.getBean(RegenEngine.class).clock()).isSameAs(AppBeans.CLOCK);
        });
    }

    @Test
    void metrics_theFiltersOwn_boundUnderTheNamesOfRegenMetricsEndpoint() {
        runner.run(ctx -> {
            RegenMetrics metrics = ctx.getBean(RegenMetrics.class);
            assertThat(metrics).isSameAs(ctx.getBean(RegenFilter.class).metrics());
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            metrics.bindTo(registry);
            assertThat(registry.get("regen.requests").counters()).hasSize(4);
            assertThat(registry.get("regen.render.duration").timers()).isNotEmpty();
            assertThat(registry.get("regen.store.operation.duration").timers()).isNotEmpty();
            assertThat(registry.get("regen.memory").gauge().value()).isZero();
        });
    }

    @Test
    void regenCache_badPathOrTag_rejectedBeforeAnythingChanges() {
        runner.run(ctx -> {
            RegenCache cache = ctx.getBean(RegenCache.class);
            assertThatThrownBy(() -> cache.revalidatePath("blog"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("must start with /");
            assertThatThrownBy(() -> cache.revalidateTag(" ")).isInstanceOf(IllegalArgumentException.class);
            assertThat(cache.revalidatePath("/nothing/cached")).isZero();
            assertThat(cache.expireTag("none")).isZero();
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class AppBeans {
        static final FakeClock CLOCK = new FakeClock();
        static final KvStore STORE = new MemoryStore(1 << 20, CLOCK);

        @Bean
        InstantSource testClock() {
            return CLOCK;
        }

        @Bean(destroyMethod = "")
        KvStore appStore() {
            return STORE;
        }
    }
}
