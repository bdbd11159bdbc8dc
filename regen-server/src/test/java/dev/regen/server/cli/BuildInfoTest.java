package dev.regen.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class BuildInfoTest {

    @Test
    void of_unfilteredOrMissingValues_unknown() {
        Properties p = new Properties();
        p.setProperty("version", "${project.version}");
        p.setProperty("dirty", "${git.dirty}");
        BuildInfo info = BuildInfo.of(p);
        assertThat(info).isEqualTo(new BuildInfo("unknown", "unknown", false));
    }

    @Test
    void describe_versionCommitAndModified() {
        assertThat(new BuildInfo("0.2.0", "1a2b3c4", false).describe()).isEqualTo("regen 0.2.0 (commit 1a2b3c4)");
        assertThat(new BuildInfo("0.2.0-SNAPSHOT", "1a2b3c4", true).describe())
                .isEqualTo("regen 0.2.0-SNAPSHOT (commit 1a2b3c4, modified)");
    }
}
