package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CannotListenTest {
    @Test
    void cannotListen_nettyAndJdkMessages_oneLineWithTheAddressAndWhatToDo() {
        assertThat(RegenServer.cannotListen("0.0.0.0", 8080, "bind(..) failed with error(-98): Address already in use"))
                .isEqualTo("cannot listen on 0.0.0.0:8080: the address is already in use: another process listens there"
                        + " (another Regen?); stop it or choose another port with --port (or listen: in the config)");
        assertThat(RegenServer.cannotListen("0.0.0.0", 80, "Permission denied"))
                .startsWith("cannot listen on 0.0.0.0:80: permission denied: ports below 1024 need root");
        assertThat(RegenServer.cannotListen(
                        "::1", 8080, "bind(..) failed with error(-99): Cannot assign requested address"))
                .startsWith("cannot listen on [::1]:8080: ::1 is not an address of this machine");
        assertThat(RegenServer.cannotListen("10.0.0.1", 8080, "something else"))
                .isEqualTo("cannot listen on 10.0.0.1:8080: something else");
    }
}
