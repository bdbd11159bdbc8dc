package dev.regen.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** After packaging: build.properties is written at prepare-package, so unit tests run without it. */
class BuildInfoIT {

    @Test
    void current_afterTheBuild_semanticVersionAndACommitOrUnknown() {
        BuildInfo info = BuildInfo.current();
        assertThat(info.version()).matches("\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?");
        assertThat(info.commit()).matches("[0-9a-f]{7,40}|" + BuildInfo.UNKNOWN);
    }
}
